"""Flask extensions, created unbound and initialised by the app factory."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from rems.common.sessions import RequestSession
from rems.db import Base

db = SQLAlchemy(model_class=Base, session_options={"class_": RequestSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
