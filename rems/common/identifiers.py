"""Identifiers: the program's own (unguessable, with a check character) and the national ones."""

from __future__ import annotations

import re
import secrets

#: Crockford's base 32: no I, L, O or U, so nothing reads as another character.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {char: number for number, char in enumerate(ALPHABET)}
BODY_LENGTH = 10  # 50 random bits: unguessable by enumeration
_SEPARATORS = re.compile(r"[\s-]")
_LOOK_ALIKES = str.maketrans("OIL", "011")


def check_character(body: str) -> str:
    """Luhn mod 32 check character: catches every single-character error and most swaps."""
    total, factor = 0, 2
    for char in reversed(body):
        addend = factor * _INDEX[char]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_identifier(prefix: str) -> str:
    """A fresh identifier: prefix letter, ten random characters, one check character."""
    bits = secrets.randbits(5 * BODY_LENGTH)  # one draw, five bits per character
    body = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(BODY_LENGTH))
    return prefix + body + check_character(prefix + body)


def normalize_identifier(value: str) -> str:
    """Upper-case, spaces and dashes removed, and the look-alikes O→0, I/L→1."""
    return _SEPARATORS.sub("", value or "").upper().translate(_LOOK_ALIKES)


def is_valid_identifier(value: str, prefix: str) -> bool:
    """Whether `value` has this prefix, the right length and a correct check character."""
    value = normalize_identifier(value)
    if len(value) != len(prefix) + BODY_LENGTH + 1 or not value.startswith(prefix):
        return False
    if any(char not in _INDEX for char in value[len(prefix) :]):
        return False
    return check_character(value[:-1]) == value[-1]


def npi_check_digit(first_nine: str) -> str:
    """The NPI check digit: Luhn over the card-issuer prefix 80840 followed by the nine digits."""
    total = 0
    for position, char in enumerate(reversed("80840" + first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def npi_is_valid(npi: str) -> bool:
    """A National Provider Identifier: 10 digits, the last the check digit of the first nine."""
    return bool(re.fullmatch(r"\d{10}", npi or "")) and npi_check_digit(npi[:9]) == npi[9]


def ncpdp_check_digit(first_six: str) -> str:
    """The NCPDP check digit: digits 1, 3, 5 plus twice digits 2, 4, 6; the units digit."""
    d = [int(c) for c in first_six]
    return str((d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10)


def ncpdp_is_valid(ncpdp_id: str) -> bool:
    """An NCPDP Provider ID: 7 digits, the last the check digit of the first six."""
    return (
        bool(re.fullmatch(r"\d{7}", ncpdp_id or ""))
        and ncpdp_check_digit(ncpdp_id[:6]) == ncpdp_id[6]
    )
