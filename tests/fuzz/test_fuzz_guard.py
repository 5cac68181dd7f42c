"""Property tests of content's identifier guard: total, silent about the text, and thorough."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.content.domain.guard import MAX_HITS_PER_FIELD, check_fields, scan
from services.identity.domain.validation import npi_check_digit

#: Bounded and reproducible: the same examples on every run, in CI and on a laptop.
BOUNDED = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Prose as pasted case notes look: any characters, more often the ones notes are made of.
prose = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from("0123456789 -./:()#+@,;\n\tMRNSSNphonefax"),
    ),
    max_size=200,
)


def _npi(stem: int) -> str:
    digits = f"1{stem:08d}"
    return digits + npi_check_digit(digits)


npis = st.integers(0, 99_999_999).map(_npi)
ssns = st.builds(
    "{}-{:02d}-{:04d}".format,
    st.integers(1, 899).filter(lambda a: a != 666).map("{:03d}".format),
    st.integers(1, 99),
    st.integers(1, 9999),
)
emails = st.builds(
    "{}@{}.{}".format,
    st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True),
    st.sampled_from(["com", "org", "net", "de", "health"]),
)
phones = st.builds(
    "({}) {}-{:04d}".format,
    st.integers(200, 999),
    st.integers(200, 999),
    st.integers(0, 9999),
)
identifiers = st.one_of(npis, ssns, emails, phones)


@BOUNDED
@given(prose)
def test_scan_never_raises_and_spans_lie_inside_the_text(text: str) -> None:
    for hit in scan(text):
        assert 0 <= hit.start < hit.end <= len(text)


@BOUNDED
@given(prose, identifiers, prose)
def test_a_planted_identifier_is_found_whatever_surrounds_it(
    before: str, planted: str, after: str
) -> None:
    # Whitespace marks where the identifier ends, as it does in any note; without it,
    # "x1234567893" is not an NPI but part of a longer token.
    text = f"{before} {planted} {after}"
    start = len(before) + 1
    end = start + len(planted)
    assert any(h.start < end and start < h.end for h in scan(text)), (planted, text)


@BOUNDED
@given(prose, identifiers, prose)
def test_violation_messages_never_echo_the_text(before: str, planted: str, after: str) -> None:
    text = f"{before} {planted} {after}"
    findings = check_fields({"body": text, "title": planted})
    assert findings  # the title holds the identifier alone
    assert sum(f.field == "body" for f in findings) <= MAX_HITS_PER_FIELD
    for finding in findings:
        assert planted not in finding.description
        assert finding.field in {"body", "title"}
