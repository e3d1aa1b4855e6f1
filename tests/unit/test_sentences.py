import pytest

from kb.sentences import sentence_spans, split_sentences


def test_missing_space_before_capital_splits():
    # "treated.A": a lower-case letter, one '.', then an upper-case letter -> a sentence boundary
    assert split_sentences("Anxiety disorders can be treated.A combination of x.") == [
        "Anxiety disorders can be treated.",
        "A combination of x.",
    ]


def test_stray_lead_in_punctuation_is_trimmed():
    # ". .Unfortunately": the lone '.' is a boundary, and '.'/' ' are trimmed from the next sentence's start
    assert split_sentences("It helps in many cases. .Unfortunately, not always.") == [
        "It helps in many cases.",
        "Unfortunately, not always.",
    ]


def test_source_stub_at_end_is_not_a_sentence():
    out = split_sentences("It reduces severity in patients with PTSD.(Source)")
    assert out == ["It reduces severity in patients with PTSD."]


def test_source_stub_after_spaced_full_stop_is_not_a_sentence():
    # real corpus form: "... manner. (Source)"
    out = split_sentences("Scores improved in a dose-dependent manner. (Source)")
    assert out == ["Scores improved in a dose-dependent manner."]


def test_source_stub_followed_by_text_is_not_inside_a_sentence():
    out = split_sentences("Severity fell in PTSD.(Source) Another trial found more.")
    assert all("(Source)" not in s for s in out)
    assert out == ["Severity fell in PTSD.", "Another trial found more."]


def test_abbreviation_dr_does_not_split():
    # "dr" is in the abbreviation list, so "Dr. Smith" stays together; "so. Then" splits
    assert split_sentences("Dr. Smith said so. Then he left.") == ["Dr. Smith said so.", "Then he left."]


def test_decimal_number_does_not_split():
    # "2.5": the '.' is followed by a digit without a space, and the preceding char is not lower-case
    assert split_sentences("Relief lasted 2.5 weeks. Then it faded.") == ["Relief lasted 2.5 weeks.", "Then it faded."]


@pytest.mark.parametrize("close", ["”", '"', "’", ")"])
def test_closing_quote_stays_with_sentence(close):
    opener = {"”": "“", '"': '"', "’": "‘", ")": "("}[close]
    text = f"He said {opener}it works.{close} Then it did."
    assert split_sentences(text) == [f"He said {opener}it works.{close}", "Then it did."]


def test_lower_case_after_full_stop_and_space_does_not_split():
    # "e.g. this": next word is lower-case, so no boundary (keeps text together when unsure)
    assert split_sentences("Some drugs, e.g. ketamine, act fast. Others do not.") == [
        "Some drugs, e.g. ketamine, act fast.",
        "Others do not.",
    ]


def test_question_and_exclamation_marks_end_sentences():
    assert split_sentences("Does it work? Yes! It does.") == ["Does it work?", "Yes!", "It does."]


def test_punctuation_only_text_gives_no_sentences():
    assert split_sentences(" . .. ; ") == []
    assert split_sentences("") == []


TEXTS = [
    "Anxiety disorders can be treated.A combination of x.",
    "It helps in many cases. .Unfortunately, not always.",
    "It reduces severity in patients with PTSD.(Source)\nNext line here.",
    "Dr. Smith said so. Then he left.  ",
    "  Relief lasted 2.5 weeks. Then it faded",
    "He said “it works.” Then it did.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_spans_are_verbatim_slices(text):
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == split_sentences(text)
    for s, e in spans:
        assert 0 <= s < e <= len(text)
        assert text[s:e] == text[s:e].strip()  # trimmed of surrounding white space
    # spans are in order and never overlap
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))


def test_offset_shifts_spans():
    text = "One here. Two here."
    # without offset: (0, 9) and (10, 19); with offset 100 both shift by 100
    assert sentence_spans(text) == [(0, 9), (10, 19)]
    assert sentence_spans(text, 100) == [(100, 109), (110, 119)]
