"""The JSON API under /api/v1: token authentication, the error shape, request bodies as pydantic
models and the OpenAPI document generated from them. rems.api.v1 assembles the blueprint."""
