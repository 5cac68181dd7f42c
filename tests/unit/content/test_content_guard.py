"""The patient-identifier guard: each Safe Harbor kind in realistic text, and clinical prose."""

from __future__ import annotations

import pytest

from services.content.domain.guard import check_fields, scan
from services.content.domain.identifiers import IdentifierKind as K

#: (kind, text, the identifier as it appears in the text). Each must be found, with its span.
REFUSED: list[tuple[K, str, str]] = [
    (K.PHONE_NUMBER, "Daughter can be reached at (617) 555-0199 after 5 pm.", "(617) 555-0199"),
    (K.PHONE_NUMBER, "Called the family on 617-555-0199 to discuss goals.", "617-555-0199"),
    (K.PHONE_NUMBER, "PCP office 617.555.0199 has the old notes.", "617.555.0199"),
    (K.PHONE_NUMBER, "Wife's mobile +1 415 555 0123, prefers texts.", "+1 415 555 0123"),
    (K.PHONE_NUMBER, "Referred from London, clinic +44 20 7946 0958.", "+44 20 7946 0958"),
    (K.PHONE_NUMBER, "Patient asked us to call 555-0199 if results change.", "555-0199"),
    (K.FAX_NUMBER, "Outside records faxed over, fax: 212-555-0147.", "212-555-0147"),
    (K.FAX_NUMBER, "Please send the echo report to Fax (212) 555 0147.", "(212) 555 0147"),
    (K.EMAIL_ADDRESS, "Son emailed me at m.jones72@gmail.com with photos.", "m.jones72@gmail.com"),
    (K.SSN, "Registration lists SSN 123-45-6789 but the name differs.", "123-45-6789"),
    (K.SSN, "Insurance form shows SSN: 123456789.", "123456789"),
    (K.MEDICAL_RECORD_NUMBER, "Chart pulled for MRN 12345678, two prior admissions.", "12345678"),
    (K.MEDICAL_RECORD_NUMBER, "See medical record # A1234567 from the outside ED.", "A1234567"),
    (K.MEDICAL_RECORD_NUMBER, "Patient ID: 00493821 in the lab system.", "00493821"),
    (K.ACCOUNT_NUMBER, "Billing flagged acct #88-12345 as overdue.", "88-12345"),
    (K.ACCOUNT_NUMBER, "Account number 4429917 was merged.", "4429917"),
    (K.HEALTH_PLAN_NUMBER, "Medicare 1EG4-TE5-MK73 covers the stay.", "1EG4-TE5-MK73"),
    (K.HEALTH_PLAN_NUMBER, "Member ID XJH123456789 for prior auth.", "XJH123456789"),
    (K.CERTIFICATE_NUMBER, "Driver's license D1234567 found in the wallet.", "D1234567"),
    (K.DEVICE_IDENTIFIER, "Pacemaker serial PJN123456 interrogated today.", "PJN123456"),
    (K.LICENSE_PLATE, "Brought in after a crash; car plate ABC-1234 per EMS.", "ABC-1234"),
    (K.LICENSE_PLATE, "Police noted licence plate 7XYZ123 at the scene.", "7XYZ123"),
    (K.VEHICLE_IDENTIFIER, "Insurer asked for VIN 1HGCM82633A004352.", "1HGCM82633A004352"),
    (K.CREDIT_CARD, "Copay card 4111 1111 1111 1111 was left at triage.", "4111 1111 1111 1111"),
    (K.NPI, "Referring doctor NPI 1234567893 on the letter.", "1234567893"),
    (K.URL, "Family started https://gofundme.com/f/help-dad for the surgery.", ""),
    (K.URL, "Her blog www.mystrokejourney.net describes it all.", "www.mystrokejourney.net"),
    (K.URL, "Photos are on facebook.com/jane.doe.1985 apparently.", ""),
    (K.IP_ADDRESS, "Portal login from 192.168.14.201 triggered an alert.", "192.168.14.201"),
    (
        K.IP_ADDRESS,
        "Device beacons to 2001:db8:85a3::8a2e:370:7334.",
        "2001:db8:85a3::8a2e:370:7334",
    ),
    (K.DATE, "Admitted 03/14/2021 with chest pain.", "03/14/2021"),
    (K.DATE, "Symptoms began 14.03.2021 while travelling.", "14.03.2021"),
    (K.DATE, "CT on 2021-03-14 showed a mass.", "2021-03-14"),
    (K.DATE, "Seen in clinic on March 14, 2021 for follow-up.", "March 14, 2021"),
    (K.DATE, "Discharged 14 Mar 2021 on apixaban.", "14 Mar 2021"),
    (K.DATE, "Her birthday is on July 4th, and she wanted to be home.", "July 4th"),
    (K.DATE, "Patient was admitted 3/14 and deteriorated overnight.", "3/14"),
    (K.DATE, "DOB: 4/7/52, lives alone.", "4/7/52"),
    (K.STREET_ADDRESS, "Lives at 42 Elm Street with her sister.", "42 Elm Street"),
    (
        K.STREET_ADDRESS,
        "Found down outside 1600 Pennsylvania Ave by police.",
        "1600 Pennsylvania Ave",
    ),
    (K.STREET_ADDRESS, "Mail goes to P.O. Box 1234 in town.", "P.O. Box 1234"),
    (K.ZIP_CODE, "Moved to Boston, MA 02115 last year.", "02115"),
    (K.ZIP_CODE, "Postal code 02115-4412 on the form.", "02115-4412"),
    (K.PERSON_NAME, "Mrs. Alvarez, 67, presents with dyspnoea.", "Alvarez"),
    (K.PERSON_NAME, "Mr Okafor declined the transfusion.", "Okafor"),
]

#: Ordinary clinical prose: none of it may be refused.
ALLOWED = [
    "Metformin 500 mg bid, uptitrated to 1000 mg bid after 2 weeks.",
    "Labs: Hb 9.8 g/dL, MCV 72 fL, ferritin 8 ng/mL, K+ 5.9 mmol/L, Na+ 131, Cr 1.8 mg/dL.",
    "BP 140/90, HR 112, RR 22, SpO2 91% on room air, T 38.4 C.",
    "Patient aged 60-69, female, T2DM and HTN since 2019, ex-smoker (30 pack-years).",
    "Aged 60\u201369 with NSTEMI (ICD-10 I21.4) and CKD stage 3b (N18.32); E11.9 as well.",
    "Symptoms started 3 days ago; on day 3 of ceftriaxone the fever broke.",
    "Troponin at 08:00 was 45 ng/L, repeat at 11:00 was 310 ng/L.",
    "In 2019 she had a TKR; in 2020-2021 repeated UTIs.",
    "Titrated furosemide 20-40-80 mg over a week; 5-10-15 mg schedule for prednisone taper.",
    "EF 35-40% on echo; LDL 3.2 mmol/L; HbA1c 8.1% (65 mmol/mol).",
    "GCS 14/15, pupils 3 mm reactive; NIHSS 4.",
    "Gave 1/2 tab of lorazepam; 2/3 of patients in the trial improved.",
    "CURB-65 score of 3; qSOFA 2; Wells 4.5.",
    "WBC 14.2 x10^9/L, plt 450, INR 1.3, aPTT 32 s.",
    "Started amoxicillin-clavulanate 875/125 mg q12h for 7 days.",
    "Culture plate grew gram-negative rods on day 2; blood agar plate 3 negative.",
    "The patient may need a repeat scan; May is the earliest slot.",
    "Reviewed in March; follow-up planned in 6 months.",
    "Follows an ECG with 12-lead monitoring; serial troponins negative.",
    "Plan: 1000 mL bolus then reassess; account for insensible losses.",
    "PE on CTPA, Wells > 4, started LMWH 1 mg/kg q12h.",
    "Dr. House suggested sarcoidosis, but ACE level was normal.",
    "Insurance since 2019 covers rehab; patient 2 of 3 in the cohort.",
    "HR went from 150 to 90 after 5 mg metoprolol IV x3.",
    "Vitamin D 12 ng/mL; replace with 50,000 IU weekly for 8 weeks.",
    "Sodium corrected by no more than 8-10 mmol/L per 24 h.",
    "Born at 32 weeks, now aged 1-12 band; weight 14.2 kg.",
    "Hep B sAg negative, anti-HBs 120 mIU/mL, HCV Ab negative.",
    "eGFR 42 mL/min/1.73m2; dose-adjusted apixaban 2.5 mg bd.",
]


@pytest.mark.parametrize(("kind", "text", "expected"), REFUSED, ids=lambda v: str(v)[:30])
def test_each_identifier_kind_is_refused(kind: K, text: str, expected: str) -> None:
    hits = scan(text)
    assert [h.kind for h in hits] == [kind], (
        f"{text!r}: {[(h.kind, text[h.start : h.end]) for h in hits]}"
    )
    hit = hits[0]
    if expected:
        assert text[hit.start : hit.end] == expected
    else:
        assert text[hit.start : hit.end] in text and hit.end > hit.start


@pytest.mark.parametrize("text", ALLOWED)
def test_ordinary_clinical_prose_passes(text: str) -> None:
    hits = scan(text)
    assert hits == [], [(h.kind, text[h.start : h.end]) for h in hits]


def test_a_finding_names_field_kind_and_span_without_echoing_the_text() -> None:
    history = "Lives alone. Daughter's phone is 617-555-0199, call after 5."
    findings = check_fields([("title", "Syncope in an older adult"), ("case.history", history)])
    assert len(findings) == 1
    finding = findings[0]
    assert finding.field == "case.history"
    start, end = history.index("617"), history.index("617") + len("617-555-0199")
    assert (finding.hit.start, finding.hit.end) == (start, end)
    assert finding.description == (
        f"looks like a phone number (PHONE_NUMBER) at characters {start}\u2013{end}; "
        "remove patient identifiers (HIPAA Safe Harbor)"
    )
    assert "555" not in finding.description


def test_several_hits_in_one_field_are_reported_in_order() -> None:
    text = "MRN 12345678. Email jd@example.org. Lives at 9 Oak Lane."
    kinds = [f.hit.kind for f in check_fields({"body": text})]
    assert kinds == [K.MEDICAL_RECORD_NUMBER, K.EMAIL_ADDRESS, K.STREET_ADDRESS]


def test_hits_per_field_are_capped() -> None:
    text = " ".join(f"MRN 1234567{i}" for i in range(9))
    assert len(check_fields({"body": text})) == 5


def test_empty_and_long_ordinary_text_pass_quickly() -> None:
    assert check_fields({"body": ""}) == []
    assert scan(" ".join(ALLOWED) * 40) == []
