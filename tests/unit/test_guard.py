import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.guard import MASK, has_dose_number, mask_dose_numbers


@pytest.mark.parametrize(
    "text",
    [
        "a dose of 50 mg was used",
        "0.5mg/kg over 40 minutes",
        "about 2 ml",
        "100mcg daily",
        "1-2 mg",
        "ten mg",
        "1 to 2 milligrams",
        "5 MG",  # case-insensitive
        "0,5 mg/kg",  # decimal comma
        "2 cc",
        "3 g",
    ],
)
def test_flags_dose_numbers(text):
    assert has_dose_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "takes about 90 minutes",
        "12 patients",
        "a trial in 2007",
        "3 treatments in the first week",
        "after 1 hour",
        "6 to 12 weeks",
        "the mg unit alone",
        "5 mgx",  # unit must end at a word boundary
        "3 grammar lessons",
    ],
)
def test_does_not_flag_other_numbers(text):
    assert not has_dose_number(text)


def test_mask_replaces_only_the_amount():
    assert mask_dose_numbers("Give 0.5 mg/kg over 40 minutes.") == f"Give {MASK} over 40 minutes."
    # a range is masked as one amount
    assert mask_dose_numbers("1-2 mg or ten mg") == f"{MASK} or {MASK}"


def test_flags_decimal_without_leading_zero():
    assert has_dose_number("an infusion of .5 mg/kg")


@pytest.mark.parametrize("text", ["forty milligrams", "fifteen mg"])
def test_flags_other_number_words(text):
    assert has_dose_number(text)


UNITS = ["mg", "mg/kg", "mg / kg", "mgs", "milligram", "milligrams", "mcg", "µg", "ug", "microgram",
         "micrograms", "ml", "mls", "milliliter", "millilitres", "cc", "iu", "i.u.", "international units",
         "grams", "g", "MG", "Ml"]
NUMBERS = st.one_of(
    st.integers(min_value=0, max_value=100_000).map(str),
    st.tuples(st.integers(0, 999), st.integers(0, 999)).map(lambda t: f"{t[0]}.{t[1]}"),
    st.sampled_from(["one", "two", "three", "ten", "twenty", "fifty", "hundred", "half", "a quarter"]),
    st.tuples(st.integers(0, 99), st.integers(0, 99)).map(lambda t: f"{t[0]}-{t[1]}"),
    st.tuples(st.integers(0, 99), st.integers(0, 99)).map(lambda t: f"{t[0]} to {t[1]}"),
)
WORDS = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz,;:()", min_size=1, max_size=10), max_size=6)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(before=WORDS, number=NUMBERS, space=st.sampled_from(["", " ", "  "]), unit=st.sampled_from(UNITS), after=WORDS)
def test_masked_text_never_has_a_dose(before, number, space, unit, after):
    text = " ".join([*before, f"{number}{space}{unit}", *after])
    assert has_dose_number(text)  # the generated amount is always detected...
    masked = mask_dose_numbers(text)
    assert not has_dose_number(masked)  # ...and nothing detectable is left after masking
    assert MASK in masked
