import pytest

from eval.textmatch import contains, normalize


@pytest.mark.parametrize(
    "a, b",
    [
        ("Ketamine Works", "ketamine works"),  # case
        ("ketamine   works\n\tfast", "ketamine works fast"),  # white-space runs
        ("ketamine\u00a0works", "ketamine works"),  # non-breaking space
        ("  padded  ", "padded"),  # leading/trailing space
        ("it\u2019s \u201cspecial K\u201d", "it's \"special k\""),  # curly vs straight quotes
        ("\u2018single\u2019", "'single'"),
        ("depression\u2014and anxiety", "depression-and anxiety"),  # em dash
        ("6\u201312 weeks", "6-12 weeks"),  # en dash
        ("STRASSE", "strasse"),
    ],
)
def test_ignored_differences(a, b):
    assert normalize(a) == normalize(b)
    assert contains("Before. " + a + " after.", b)


@pytest.mark.parametrize(
    "haystack, needle",
    [
        ("ketamine works", "ketamine, works"),  # punctuation matters
        ("colour", "color"),  # spelling matters
        ("café", "cafe"),  # accents matter
        ("ketamine works", "ketamineworks"),  # a space is not nothing
        ("k-hole", "k hole"),  # a dash is not a space
        ("it's", "its"),  # an apostrophe is not nothing
    ],
)
def test_other_differences_matter(haystack, needle):
    assert not contains(haystack, needle)


def test_empty_needle_never_matches():
    assert contains("anything", "") is False
    assert contains("anything", "  \u00a0 ") is False


def test_normalize_exact():
    assert normalize("  A\u00a0\u00a0B \u201cC\u201d \u2013 D  ") == 'a b "c" - d'
