"""Standard interfaces over the program's own rules: FHIR R4 (the HL7 US Medication REMS IG's
`$rems-etasu` and the CapabilityStatement). Nothing here decides: the gate does."""
