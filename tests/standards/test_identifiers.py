"""UK identifier rules in joinedup.standards.identifiers, against the published rules."""

from __future__ import annotations

import random

import pytest

from joinedup.standards.identifiers import (
    is_valid_gss_code,
    is_valid_nhs_number,
    is_valid_ni_number,
    is_valid_upn,
    is_valid_uprn,
    nhs_check_digit,
    normalise_postcode,
    upn_check_letter,
)

# --- NHS number --------------------------------------------------------------------------


def test_nhs_known_valid_and_invalid() -> None:
    assert is_valid_nhs_number("9434765919")
    assert not is_valid_nhs_number("9434765918")
    assert nhs_check_digit("943476591") == 9


def test_nhs_spaces_are_ignored() -> None:
    assert is_valid_nhs_number("943 476 5919")


def test_nhs_check_of_ten_means_invalid() -> None:
    # 6 x weight 2 = 12; 12 mod 11 = 1; 11 - 1 = 10, so no check digit exists.
    assert nhs_check_digit("000000006") is None
    assert not any(is_valid_nhs_number(f"000000006{d}") for d in range(10))
    # and one found by search rather than by hand
    rng = random.Random(4)
    while True:
        prefix = f"{rng.randrange(10**9):09d}"
        if nhs_check_digit(prefix) is None:
            break
    assert not any(is_valid_nhs_number(prefix + str(d)) for d in range(10))


def test_nhs_check_of_eleven_means_zero() -> None:
    # sum 0 -> 11 - 0 = 11 -> check digit 0; and 1 x 9 + 1 x 2 = 11 -> also 0
    assert nhs_check_digit("000000000") == 0
    assert is_valid_nhs_number("0000000000")
    assert nhs_check_digit("010000001") == 0


@pytest.mark.parametrize("bad", ["", "943476591", "94347659190", "943476591X", "abcdefghij"])
def test_nhs_wrong_shape(bad: str) -> None:
    assert not is_valid_nhs_number(bad)


def test_nhs_check_digit_needs_nine_digits() -> None:
    with pytest.raises(ValueError):
        nhs_check_digit("12345678")


# --- UPN ---------------------------------------------------------------------------------

# The DfE rule, written out independently from the data standard's wording: characters 2-13
# are multiplied by their position (2..13), summed, taken modulo 23, and the remainder is a
# letter: A=0 ... H=7, (skip I) J=8 ... N=12, (skip O) P=13 Q=14 R=15, (skip S) T=16 ... Z=22.
DFE_LETTERS = dict(enumerate("ABCDEFGH" + "JKLMN" + "PQR" + "TUVWXYZ"))


def dfe_check_letter(twelve: str) -> str:
    total = sum(position * int(ch) for position, ch in enumerate(twelve, start=2))
    return DFE_LETTERS[total % 23]


def test_dfe_letter_table_has_23_letters_without_i_o_s() -> None:
    assert len(DFE_LETTERS) == 23
    assert not {"I", "O", "S"} & set(DFE_LETTERS.values())


@pytest.mark.parametrize(
    ("twelve", "letter", "total"),
    [
        ("801200005001", "B", 93),  # 8x2 + 1x4 + 2x5 + 5x10 + 1x13 = 93; 93 mod 23 = 1
        ("207000016049", "P", 266),  # 2x2 + 7x4 + 1x9 + 6x10 + 4x12 + 9x13 = 266; mod 23 = 13
        ("000000000000", "A", 0),
        ("999999999999", "F", 810),  # 9 x (2 + ... + 13) = 810; 810 mod 23 = 5
    ],
)
def test_upn_worked_examples(twelve: str, letter: str, total: int) -> None:
    assert sum(p * int(c) for p, c in enumerate(twelve, start=2)) == total
    assert DFE_LETTERS[total % 23] == letter
    assert upn_check_letter(twelve) == letter == dfe_check_letter(twelve)
    assert is_valid_upn(letter + twelve)


def test_upn_implementation_matches_dfe_rule_on_random_numbers() -> None:
    rng = random.Random(23)
    for _ in range(2000):
        twelve = f"{rng.randrange(10**12):012d}"
        assert upn_check_letter(twelve) == dfe_check_letter(twelve)


@pytest.mark.parametrize(
    "bad",
    [
        "A801200005001",  # wrong check letter
        "Q207000016049",  # wrong check letter
        "B80120000500",  # 12 characters
        "B80120000500A",  # a temporary UPN: not a permanent UPN
        "I801200005001",  # I is never a check letter
        "",
    ],
)
def test_upn_invalid(bad: str) -> None:
    assert not is_valid_upn(bad)


def test_upn_lower_case_and_padding_accepted() -> None:
    assert is_valid_upn(" b801200005001 ")


# --- National Insurance number -----------------------------------------------------------


@pytest.mark.parametrize(
    "good", ["AB123456C", "ab 12 34 56 c", "OA123456A", "JH000000D", "ZY999999B"]
)
def test_ni_valid(good: str) -> None:
    assert is_valid_ni_number(good)


@pytest.mark.parametrize(
    "bad",
    [
        "DA123456A",  # D never used in the prefix
        "FA123456A",  # F
        "IA123456A",  # I
        "QA123456A",  # Q
        "UA123456A",  # U
        "VA123456A",  # V
        "AD123456A",  # D second
        "AO123456A",  # O never the second letter
        "BG123456A",  # not issued
        "GB123456A",
        "NK123456A",
        "KN123456A",
        "TN123456A",
        "NT123456A",
        "ZZ123456A",
        "AB123456E",  # suffix must be A-D
        "AB12345C",  # five digits
        "A1123456C",
        "",
    ],
)
def test_ni_invalid(bad: str) -> None:
    assert not is_valid_ni_number(bad)


# --- postcodes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("  SW1A   1AA ", "SW1A 1AA"),
        ("ec1a1bb", "EC1A 1BB"),
        ("m11ae", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("cr2 6xh", "CR2 6XH"),
        ("DN551PT", "DN55 1PT"),
        ("se24 0lr", "SE24 0LR"),
        ("W1A 0AX", "W1A 0AX"),
    ],
)
def test_postcode_normalisation(raw: str, canonical: str) -> None:
    assert normalise_postcode(raw) == canonical


@pytest.mark.parametrize("bad", ["ABC 123", "", "SW1A 1A", "1AA SW1", "SW1A 1AAA", "SW1A-1AA"])
def test_postcode_rejected(bad: str) -> None:
    assert normalise_postcode(bad) is None


# --- UPRN and GSS ------------------------------------------------------------------------


def test_uprn() -> None:
    assert is_valid_uprn(100021234567)
    assert is_valid_uprn("1")
    assert is_valid_uprn("999999999999")
    assert not is_valid_uprn("1000000000000")  # 13 digits
    assert not is_valid_uprn("0")
    assert not is_valid_uprn("-5")
    assert not is_valid_uprn("12a")


def test_gss_codes() -> None:
    assert is_valid_gss_code("E09000022", "E09")
    assert is_valid_gss_code("E05014001")
    assert not is_valid_gss_code("E05014001", "E09")
    assert not is_valid_gss_code("E0900002")
    assert not is_valid_gss_code("X09000022")
