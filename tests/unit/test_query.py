import pytest

from app.coverage import _covered_spans
from app.query import Speller, edit_distance, expand, fold, is_followup, load_glossary, translate_terms

VOCAB = {"ketamine": 50, "anxiety": 30, "instance": 10, "infusion": 5, "axes": 3}
TOPIC = frozenset({"ketamine", "anxiety", "depression", "ocd", "infusion"})


@pytest.fixture(scope="module")
def speller():
    return Speller(VOCAB)


@pytest.mark.parametrize(
    "word, expected",
    [
        ("ketamin", "ketamine"),  # one insertion away
        ("anxeity", "anxiety"),  # one adjacent transposition ("ei" <-> "ie")
        ("kettamin", "ketamine"),  # deletion + insertion: distance 2, allowed for words longer than 5
        ("ketamine", "ketamine"),  # in the vocabulary: untouched
    ],
)
def test_speller_corrects_misspellings(speller, word, expected):
    assert speller.correct(word) == expected


def test_speller_leaves_english_words(speller):
    # "insurance" is 2 edits from "instance" but is a real English word
    assert edit_distance("insurance", "instance") == 2
    assert speller.correct("insurance") == "insurance"


def test_speller_leaves_short_words(speller):
    # "axe" is 1 edit from "axes" but has fewer than 4 letters
    assert speller.correct("axe") == "axe"
    assert speller.correct("ktm") == "ktm"


def test_speller_short_words_allow_only_one_edit():
    sp = Speller({"zorbx": 1})
    # 5-letter word: at most 1 edit. "zarbq" is 2 substitutions away -> unchanged; "zorbq" is 1 -> corrected
    assert sp.correct("zorbq") == "zorbx"
    assert sp.correct("zarbq") == "zarbq"


def test_speller_prefers_closer_then_more_frequent():
    sp = Speller({"qwertyab": 1, "qwertyac": 9, "qwertyz": 100})
    # "qwertyaz" is 1 substitution from each 8-letter word and 1 deletion (the 'a') from "qwertyz":
    # all at distance 1, so the most frequent, "qwertyz" (100), wins
    assert sp.correct("qwertyaz") == "qwertyz"
    sp2 = Speller({"qwertyab": 1, "qwertyac": 9})
    assert sp2.correct("qwertyad") == "qwertyac"  # both at distance 1; 9 > 1


def test_speller_leaves_unknown_far_words(speller):
    assert speller.correct("zzzzzzzz") == "zzzzzzzz"


@pytest.mark.parametrize(
    "a, b, d",
    [
        ("kitten", "sitting", 3),  # k->s, e->i, +g
        ("", "abc", 3),  # three insertions
        ("abc", "abc", 0),
        ("ab", "ba", 1),  # adjacent transposition counts once
        ("ca", "abc", 3),  # OSA (not full Damerau, which gives 2): no edit of a transposed pair
        ("flaw", "lawn", 2),  # delete f, add n
        ("anxeity", "anxiety", 1),
    ],
)
def test_edit_distance(a, b, d):
    assert edit_distance(a, b) == d
    assert edit_distance(b, a) == d  # symmetric


def test_followup_continuation():
    assert is_followup("and what about OCD?", TOPIC) is True


def test_followup_short_anaphoric():
    # "that" is anaphoric and only 1 content word ("last") remains
    assert is_followup("how long does that last?", TOPIC) is True
    assert is_followup("Is it safe?", TOPIC) is True


def test_self_contained_question_is_not_followup():
    q = "What are the side effects of ketamine infusions for treatment-resistant depression?"
    assert is_followup(q, TOPIC) is False
    # continuation opener, but 9 content words (> 6) make it stand alone
    long_q = "And how does ketamine compare with esketamine nasal spray for treatment resistant depression in older adults?"
    assert is_followup(long_q, TOPIC) is False


def test_elliptical_phrase_follows_on_even_with_a_topic_word():
    # "vs depression?" after "how long did one infusion help anxiety" names a topic, yet only makes
    # sense against the previous question
    assert is_followup("vs depression?", TOPIC) is True
    assert is_followup("for depression tho?", TOPIC) is True
    assert is_followup("para el toc?", TOPIC) is True
    # a whole question that happens to start with "for" stands alone
    assert is_followup("for depression, how does ketamine compare with regular antidepressants in the long run?", TOPIC) is False


def test_short_question_with_topic_word_is_not_followup():
    # 3 content words, no anaphora, and "ketamine" is a topic word
    assert is_followup("ketamine side effects", TOPIC) is False
    # same length without a topic word leans on the conversation
    assert is_followup("side effects", TOPIC) is True


def test_fold():
    assert fold("Café  Déjà\u00a0Vu") == "cafe deja vu"  # accents stripped, spaces collapsed, lower case
    assert fold("It\u2019s \u201cspecial K\u201d \u2013 \u2018ok\u2019") == "it's \"special k\" - 'ok'"
    assert fold("  KETAMINE\n") == "ketamine"


def test_expand_uses_speller_and_synonyms(speller):
    out = expand("Does ketamin help anxeity?", speller)
    assert out.split()[:4] == ["does", "ketamine", "help", "anxiety"]
    # without a speller the misspellings stay
    assert expand("Does ketamin help anxeity?", None).startswith("does ketamin help anxeity?")
    # a lay phrase brings in the source words (synonyms.toml: "nose spray" -> esketamine nasal spray)
    assert "esketamine nasal spray" in expand("is there a nose spray", None)


def test_glossary_keys_never_match_the_english_sources():
    """The glossary adds English for foreign words; a key that matched English text would pad
    every English question that used that word (and mark it as covered by the sources)."""
    from kb.documents import load_documents

    text = " ".join(fold(d.text) for d in load_documents())
    keys = (*load_glossary(), *load_glossary("uncovered"))
    matched = [(pat.pattern[:40], m.group(0)) for pat, _ in keys for m in pat.finditer(text)]
    assert matched == []


@pytest.mark.parametrize("question, english", [
    ("a cetamina vicia?", "addiction"),
    ("est-ce que la kétamine rend dépendant ?", "addiction"),
    ("¿la ketamina afecta la memoria?", "memory"),
    ("wie lange dauert eine ketamin-infusion?", "90 minutes"),
    ("quais são os riscos da cetamina?", "side effects"),
    ("mi hermano tuvo problemas con las drogas, ¿puede usar ketamina?", "substance abuse"),
])
def test_foreign_key_terms_bring_the_sources_english(question, english):
    assert english in translate_terms(question)
    assert english in expand(question, None)


def test_uncovered_foreign_words_get_english_but_stay_gaps():
    """Cost and insurance are not in the sources: their words get English (so the model reads the
    question as an English speaker's) but are never counted as words the sources use."""
    for question, english, word in (("¿cuánto cuesta la ketamina?", "cost", "cuesta"),
                                    ("quel est le prix d'une séance ?", "cost", "prix"),
                                    ("zahlt die krankenkasse?", "insurance", "krankenkasse"),
                                    ("¿el seguro médico cubre el tratamiento con ketamina?", "insurance", "seguro"),
                                    ("meu seguro paga a cetamina?", "", "seguro")):
        assert english in translate_terms(question)
        text = fold(question)
        at = text.index(word)
        assert not any(s <= at < e for s, e in _covered_spans(text)), (question, word)
    assert "safe" not in translate_terms("¿el seguro médico cubre el tratamiento con ketamina?")
    assert "safe" in translate_terms("¿es seguro usar ketamina?")  # "seguro" as safe still is
