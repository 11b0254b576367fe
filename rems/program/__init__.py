"""The REMS program as data: the program file, its loader, and the frozen objects it yields."""

from pathlib import Path

from rems.program.loader import ProgramFileError, load_program
from rems.program.model import Program

#: The LEMTRADA REMS program file shipped with the application.
DEFAULT_PROGRAM_FILE = Path(__file__).with_name("lemtrada.toml")

__all__ = ["DEFAULT_PROGRAM_FILE", "Program", "ProgramFileError", "load_program"]
