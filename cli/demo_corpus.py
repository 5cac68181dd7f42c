"""Demo posts, comments and polls that `make dev` seeds: de-identified physician talk."""

from __future__ import annotations

from dataclasses import dataclass

_ID = "IDENTIFIED"
_PS = "PSEUDONYMOUS"
_AN = "ANONYMOUS"

# Specialty tags are NUCC taxonomy codes, as the content service requires
# (services/identity/domain/specialties.py lists the catalogue).
_CARDIOLOGY = "207RC0000X"
_CRITICAL_CARE = "207RC0200X"
_DERMATOLOGY = "207N00000X"
_DIAGNOSTIC_RADIOLOGY = "2085R0202X"
_ELECTROPHYSIOLOGY = "207RC0001X"
_EMERGENCY_MEDICINE = "207P00000X"
_ENDOCRINOLOGY = "207RE0101X"
_FAMILY_MEDICINE = "207Q00000X"
_GASTROENTEROLOGY = "207RG0100X"
_INFECTIOUS_DISEASE = "207RI0200X"
_INTERNAL_MEDICINE = "207R00000X"
_MATERNAL_FETAL_MEDICINE = "207VM0101X"
_MEDICAL_ONCOLOGY = "207RX0202X"
_NEPHROLOGY = "207RN0300X"
_NEUROLOGY = "2084N0400X"
_OBSTETRICS_GYNECOLOGY = "207V00000X"
_PEDIATRICS = "208000000X"
_PSYCHIATRY = "2084P0800X"
_PULMONARY_DISEASE = "207RP1001X"
_RHEUMATOLOGY = "207RR0500X"
_SURGERY = "208600000X"


@dataclass(frozen=True, slots=True)
class DemoCase:
    """The structured part of a CASE post; ages only as bands, never exact."""

    age_band: str  # NEONATE INFANT CHILD ADOLESCENT YOUNG_ADULT MIDDLE_AGED OLDER_ADULT NINETY_PLUS
    sex: str  # FEMALE MALE INTERSEX UNDISCLOSED
    presenting_complaint: str
    history: str
    question: str
    specialty_tags: tuple[str, ...]  # NUCC taxonomy codes, e.g. 207RC0000X


@dataclass(frozen=True, slots=True)
class DemoComment:
    """A comment; `reply_to` indexes an earlier comment of the same post."""

    body: str
    visibility: str  # IDENTIFIED PSEUDONYMOUS ANONYMOUS
    reply_to: int | None = None
    by_author: bool = False


@dataclass(frozen=True, slots=True)
class DemoPost:
    """A post with its thread; reactions and votes are cast by other demo members."""

    community: str
    kind: str  # CASE DISCUSSION POLL
    visibility: str  # IDENTIFIED PSEUDONYMOUS ANONYMOUS
    title: str
    body: str
    case: DemoCase | None = None
    poll_options: tuple[str, ...] = ()
    comments: tuple[DemoComment, ...] = ()
    reactions: int = 0
    votes: tuple[int, ...] = ()


DEMO_POSTS: tuple[DemoPost, ...] = (
    # ---------------------------------------------------------------- cardiology
    DemoPost(
        community="cardiology",
        kind="CASE",
        visibility=_AN,
        title="Rest angina, troponin bumps, clean cath: where next?",
        body=(
            "Third episode this admission and I'm running out of ideas. Cath showed no "
            "obstructive disease, so we're in MINOCA territory. Would value a second set of eyes."
        ),
        case=DemoCase(
            age_band="OLDER_ADULT",
            sex="FEMALE",
            presenting_complaint=(
                "Episodes of chest pressure at rest, mostly overnight, lasting 10-15 minutes; "
                "troponin 0.08 ng/mL rising to 0.11 ng/mL."
            ),
            history=(
                "Hypertension since 2015 on amlodipine 5 mg daily. Coronary angiography: no "
                "stenosis over 30%, LVEF 55%. ECG during an episode: transient anterior T-wave "
                "inversions that resolved within the hour. LDL 96 mg/dL, HbA1c 5.8%. "
                "Cardiac MRI requested, not done yet."
            ),
            question=(
                "Would you treat empirically for vasospasm (up-titrate amlodipine, add a nitrate) "
                "or push for provocative acetylcholine testing first? Anything else to exclude?"
            ),
            specialty_tags=(_CARDIOLOGY, _INTERNAL_MEDICINE),
        ),
        comments=(
            DemoComment(
                "Nocturnal rest pain with transient T-wave changes is vasospasm until proven "
                "otherwise. If the MRI shows no LGE I'd go amlodipine 10 mg and isosorbide "
                "mononitrate 30 mg daily and see if the episodes stop.",
                _PS,
            ),
            DemoComment(
                "Before that, get the angiogram re-reviewed for SCAD. Type 2 lesions in the mid or "
                "distal LAD look like a smooth, slightly small vessel and get read as normal.",
                _AN,
                reply_to=0,
            ),
            DemoComment(
                "Good call. Asked our interventional team to look again; they agree the distal LAD "
                "tapers more abruptly than it should.",
                _AN,
                reply_to=1,
                by_author=True,
            ),
            DemoComment(
                "If it is SCAD: no routine DAPT, a beta blocker is reasonable, and screen for "
                "fibromuscular dysplasia with CTA from head to pelvis. Avoid re-stenting a healing "
                "dissection unless she's ongoing ischemic.",
                _ID,
                reply_to=2,
            ),
        ),
        reactions=14,
    ),
    DemoPost(
        community="cardiology",
        kind="CASE",
        visibility=_PS,
        title="New AF with LVEF 30%: rate, rhythm, or ablate early?",
        body=(
            "No prior echo to compare, so I can't tell whether this is tachycardia-mediated or "
            "the AF is riding on an established cardiomyopathy. Leaning towards early rhythm "
            "control but would like to hear how others approach it."
        ),
        case=DemoCase(
            age_band="MIDDLE_AGED",
            sex="MALE",
            presenting_complaint=(
                "Three weeks of palpitations and exertional dyspnea; AF with RVR, HR 138, "
                "BP 104/70 on arrival."
            ),
            history=(
                "Echo: LVEF 30%, global hypokinesis, LA mildly dilated. BNP 1450 pg/mL, TSH "
                "normal, creatinine 1.1 mg/dL. Drinks four or five beers most nights. On "
                "metoprolol succinate 50 mg daily and apixaban 5 mg bid; resting HR still "
                "110-120 on day 2 of admission."
            ),
            question=(
                "TEE and cardioversion this admission, load amiodarone first, or refer straight "
                "for ablation?"
            ),
            specialty_tags=(_CARDIOLOGY, _ELECTROPHYSIOLOGY),
        ),
        comments=(
            DemoComment(
                "Early rhythm control. CASTLE-AF and EAST-AFNET 4 both point that way in this "
                "group. TEE-guided cardioversion on amiodarone, then repeat the echo at 8 weeks "
                "in sinus before you decide anything about a device.",
                _ID,
            ),
            DemoComment(
                "Don't underplay the alcohol. The abstinence trial roughly halved AF recurrence. "
                "Worth a frank conversation before the ablation referral.",
                _PS,
            ),
            DemoComment(
                "He was surprisingly receptive. Cardioverted yesterday, sinus at 72 this morning.",
                _PS,
                reply_to=1,
                by_author=True,
            ),
            DemoComment(
                "Nice. Keep 'cardiomyopathy' off the problem list until the repeat echo; a lot of "
                "these normalise once the rate is controlled.",
                _AN,
                reply_to=2,
            ),
        ),
        reactions=9,
    ),
    DemoPost(
        community="cardiology",
        kind="POLL",
        visibility=_ID,
        title="Aspirin for primary prevention in older adults: what do you actually do?",
        body=(
            "After ASPREE and ARRIVE I rarely start it, but I inherit plenty of patients on 81 mg "
            "daily with no clear indication. What's your default when there's no known ASCVD?"
        ),
        poll_options=(
            "Deprescribe unless bleeding risk is very low",
            "Continue if already taking it and tolerating it",
            "Let a coronary calcium score decide",
            "Start it in high-risk diabetics anyway",
        ),
        comments=(
            DemoComment(
                "CAC of zero makes the deprescribing conversation much easier. Patients trust a "
                "picture more than a risk calculator.",
                _PS,
            ),
            DemoComment(
                "The hardest part is the patient whose previous cardiologist told them never to "
                "stop it. I document the discussion and let them choose.",
                _AN,
            ),
        ),
        reactions=6,
        votes=(0, 0, 2, 1, 0, 2, 0, 1, 3),
    ),
    # ---------------------------------------------------------------- internal medicine
    DemoPost(
        community="internal-medicine",
        kind="CASE",
        visibility=_ID,
        title="Na 128 and stuck despite fluid restriction",
        body=(
            "Five days in and the sodium has barely moved. I suspect more than one cause and "
            "would like a sanity check on the next step."
        ),
        case=DemoCase(
            age_band="OLDER_ADULT",
            sex="FEMALE",
            presenting_complaint=(
                "Two falls at home and new confusion; Na 124 mmol/L on arrival, 128 after "
                "fluid restriction to 1 L a day."
            ),
            history=(
                "Sertraline 100 mg daily started earlier this year, hydrochlorothiazide 25 mg "
                "daily, both held on admission. Urine osmolality 420 mOsm/kg, urine Na 48 mmol/L, "
                "serum osmolality 262. TSH and morning cortisol normal. Clinically euvolemic. "
                "CT head without acute findings. Diet mostly tea and toast."
            ),
            question=(
                "Urea, tolvaptan, or salt tablets with a loop diuretic? And how would you balance "
                "this against the depression the sertraline was treating?"
            ),
            specialty_tags=(_INTERNAL_MEDICINE, _NEPHROLOGY),
        ),
        comments=(
            DemoComment(
                "Tea and toast plus SIADH: with that little solute intake the restriction barely "
                "works. Urea 15 g daily is my go-to. Cheap, and the taste is the only complaint.",
                _PS,
            ),
            DemoComment(
                "Second urea. Tolvaptan in a frail patient eating poorly worries me for "
                "overcorrection. If you do use it, Na every 6 hours for the first day.",
                _ID,
                reply_to=0,
            ),
            DemoComment(
                "The thiazide effect can linger up to two weeks after stopping. I'd give it more "
                "time before blaming the SSRI alone.",
                _AN,
            ),
            DemoComment(
                "Update for anyone following: urea 15 g daily from day 5, Na 133 by day 8, back to "
                "her baseline mentation. Psychiatry suggested mirtazapine instead of sertraline.",
                _ID,
                by_author=True,
            ),
        ),
        reactions=21,
    ),
    DemoPost(
        community="internal-medicine",
        kind="DISCUSSION",
        visibility=_PS,
        title="Families asking for 'one more test' when the plan is comfort",
        body=(
            "Had three family meetings this week where the request was for another scan that "
            "would not change anything. I try to name the goal before the test, but I still "
            "walk out feeling like the bad guy. How do you phrase it?"
        ),
        comments=(
            DemoComment(
                "I ask 'what would you hope the scan tells us?' Usually the answer is 'that there "
                "is something we can fix', and that opens the real conversation.",
                _ID,
            ),
            DemoComment(
                "Palliative care taught me to say 'I wish' statements. 'I wish there were a test "
                "that could change this.' It keeps me on their side of the table.",
                _PS,
                reply_to=0,
            ),
            DemoComment(
                "Sometimes I just order the cheap, harmless test. A chest film that buys trust is "
                "not the hill to die on.",
                _AN,
            ),
            DemoComment(
                "Fair point, and I've done that too. It's the CT with contrast in someone with an "
                "eGFR of 18 that I push back on.",
                _PS,
                reply_to=2,
                by_author=True,
            ),
        ),
        reactions=17,
    ),
    DemoPost(
        community="internal-medicine",
        kind="POLL",
        visibility=_AN,
        title="New admission, HbA1c 9.1%, eating normally: your default insulin order?",
        body="Asking because our order set still defaults to sliding scale and I'm tired of it.",
        poll_options=(
            "Basal-bolus from day 1",
            "Basal plus correction scale",
            "Correction scale alone, then adjust",
            "Continue home oral agents if eating",
        ),
        comments=(
            DemoComment(
                "Basal plus correction, basal at about 0.2 units/kg, then add prandial once "
                "we see how they eat. Full basal-bolus on a fasting-for-procedures patient is a "
                "hypo waiting to happen.",
                _PS,
            ),
            DemoComment("Sliding scale alone should come with a warning label.", _AN),
        ),
        reactions=4,
        votes=(0, 1, 1, 1, 0, 1, 2, 3, 1),
    ),
    # ---------------------------------------------------------------- family medicine
    DemoPost(
        community="family-medicine",
        kind="CASE",
        visibility=_PS,
        title="Iron deficiency in a man with a 'normal' colonoscopy a few years ago",
        body="Want to make sure I'm not falsely reassured by the old scope.",
        case=DemoCase(
            age_band="MIDDLE_AGED",
            sex="MALE",
            presenting_complaint="Fatigue and 6 kg unintentional weight loss over four months.",
            history=(
                "Hb 9.8 g/dL, MCV 72 fL, ferritin 8 ng/mL. No overt GI bleeding, no NSAIDs. "
                "Colonoscopy in 2019 reported as normal, prep 'fair'. Vegetarian for years, works "
                "night shifts, eats irregularly. Tissue transglutaminase IgA pending."
            ),
            question=(
                "Would you repeat bidirectional endoscopy now regardless of the earlier result? "
                "And would you start IV or oral iron while waiting?"
            ),
            specialty_tags=(_FAMILY_MEDICINE, _GASTROENTEROLOGY),
        ),
        comments=(
            DemoComment(
                "Iron deficiency plus weight loss in a man is GI malignancy until proven "
                "otherwise. Bidirectional endoscopy, and a 'fair' prep doesn't count as a "
                "clean colon.",
                _ID,
            ),
            DemoComment(
                "Have you checked the celiac serology together with total IgA? IgA deficiency "
                "gives a falsely negative tTG.",
                _AN,
            ),
            DemoComment(
                "Good catch, total IgA wasn't sent. Added it.",
                _PS,
                reply_to=1,
                by_author=True,
            ),
            DemoComment(
                "Oral iron every other day is absorbed better than daily and he'll tolerate it "
                "more. IV if the scopes take weeks to arrange.",
                _PS,
            ),
        ),
        reactions=11,
    ),
    DemoPost(
        community="family-medicine",
        kind="DISCUSSION",
        visibility=_ID,
        title="Annual visit in 15 minutes: what do you cut?",
        body=(
            "Screening reminders, med reconciliation, two new complaints, a form to sign and a "
            "depression screen that came back positive. Something gives every time. What do you "
            "deliberately drop, and what do you never skip?"
        ),
        comments=(
            DemoComment(
                "Never skip: the positive PHQ-9. Everything else can be a follow-up visit.",
                _ID,
            ),
            DemoComment(
                "Our MA does the med reconciliation and screening questions before I walk in. It "
                "bought me back about five minutes per visit.",
                _PS,
            ),
            DemoComment(
                "Same here, but it took a year to get the staffing approved.",
                _AN,
                reply_to=1,
            ),
        ),
        reactions=13,
    ),
    # ---------------------------------------------------------------- emergency medicine
    DemoPost(
        community="emergency-medicine",
        kind="CASE",
        visibility=_AN,
        title="Exertional syncope, ECG read by the machine as 'athlete's heart'",
        body="Department is full and I'm being asked to discharge. I'm uneasy.",
        case=DemoCase(
            age_band="YOUNG_ADULT",
            sex="MALE",
            presenting_complaint=(
                "Syncope mid-sprint during an interval workout, no prodrome, brief, full recovery."
            ),
            history=(
                "HR 64, BP 122/76. ECG: sinus rhythm, QTc 440 ms, deep T-wave inversions V4 to V6. "
                "High-sensitivity troponin below the limit of detection. A paternal uncle died "
                "suddenly while young, cause never established. No drugs, no supplements he'll "
                "admit to."
            ),
            question="Outpatient echo with exercise restriction, or keep him for imaging?",
            specialty_tags=(_EMERGENCY_MEDICINE, _CARDIOLOGY),
        ),
        comments=(
            DemoComment(
                "Exertional syncope is a red flag on its own. Lateral T-wave inversions plus a "
                "family history of sudden death: apical HCM or ARVC until imaging says otherwise. "
                "I'd keep him.",
                _ID,
            ),
            DemoComment(
                "Agree. If your echo is good he can get a bedside look tonight; cardiac MRI is the "
                "real test for apical HCM though.",
                _PS,
                reply_to=0,
            ),
            DemoComment(
                "Kept him. Formal echo shows apical wall thickness 17 mm with a spade-shaped "
                "cavity. Cardiology seeing him today.",
                _AN,
                by_author=True,
            ),
            DemoComment(
                "That's the save of the week. Trust the uneasy feeling.",
                _AN,
                reply_to=2,
            ),
        ),
        reactions=32,
    ),
    DemoPost(
        community="emergency-medicine",
        kind="DISCUSSION",
        visibility=_AN,
        title="Psych boarders: three days in a hallway bed",
        body=(
            "We had four adolescents boarding overnight waiting for inpatient psychiatric beds, "
            "one of them for the third day. No school, no therapy, a sitter and a TV. What has "
            "your department done that actually helped?"
        ),
        comments=(
            DemoComment(
                "Tele-psychiatry consults so at least treatment starts in the ED. Doesn't fix the "
                "bed problem but the patients aren't just waiting.",
                _PS,
            ),
            DemoComment(
                "We got a dedicated behavioral pod with a social worker on days. Boarding time "
                "didn't change much, restraint use dropped a lot.",
                _ID,
            ),
            DemoComment(
                "Honestly, escalating every boarding over 48 hours to administration in writing. "
                "Numbers in an email get budgets moving.",
                _AN,
                reply_to=1,
            ),
        ),
        reactions=19,
    ),
    DemoPost(
        community="emergency-medicine",
        kind="POLL",
        visibility=_PS,
        title="Which shift length wrecks you least?",
        body="Our group is redesigning the schedule. Asking for science (and survival).",
        poll_options=(
            "8 hours",
            "9 hours",
            "10 hours",
            "12 hours",
            "Depends on who else is on",
        ),
        comments=(
            DemoComment(
                "Eight-hour nights, ten-hour days. Anything over ten on nights and my last two "
                "hours are unsafe.",
                _ID,
            ),
            DemoComment("Twelves, but only three in a row. Then I hibernate.", _PS),
            DemoComment(
                "'Depends on who else is on' is the real answer and we all know it.",
                _AN,
                reply_to=0,
            ),
        ),
        reactions=8,
        votes=(0, 0, 2, 4, 4, 2, 0, 3, 4, 2),
    ),
    # ---------------------------------------------------------------- pediatrics
    DemoPost(
        community="pediatrics",
        kind="CASE",
        visibility=_ID,
        title="Well-appearing febrile neonate, reassuring markers: LP or not?",
        body=(
            "Falls in the window where the febrile infant guideline makes LP optional if the "
            "inflammatory markers are normal. Parents would strongly prefer to avoid it."
        ),
        case=DemoCase(
            age_band="NEONATE",
            sex="FEMALE",
            presenting_complaint=(
                "Temperature 38.4 C at home, 38.2 C in triage; feeding well, alert, well perfused."
            ),
            history=(
                "Term, uncomplicated vaginal delivery, maternal GBS negative, no HSV risk factors. "
                "Day 24 of life. UA negative, ANC 4200 per microliter, procalcitonin 0.2 ng/mL, "
                "CRP 0.8 mg/dL. Blood culture sent."
            ),
            question=(
                "Would you do the LP? If not, admit on empiric antibiotics or observe off "
                "antibiotics?"
            ),
            specialty_tags=(_PEDIATRICS, _EMERGENCY_MEDICINE),
        ),
        comments=(
            DemoComment(
                "With markers that clean I'd offer shared decision-making and observe in hospital "
                "off antibiotics with a blood culture pending. Don't give antibiotics without the "
                "LP though: it leaves you with a partially treated unknown.",
                _ID,
            ),
            DemoComment(
                "That last point is the one residents miss. Either LP and treat, or no LP and no "
                "antibiotics.",
                _PS,
                reply_to=0,
            ),
            DemoComment(
                "Parents chose observation without LP. Afebrile by the next morning, culture "
                "negative at 36 hours, home.",
                _ID,
                by_author=True,
            ),
        ),
        reactions=12,
    ),
    DemoPost(
        community="pediatrics",
        kind="DISCUSSION",
        visibility=_PS,
        title="Vaccine-hesitant parents: phrases that actually work",
        body=(
            "I've stopped opening with data. The presumptive approach ('today we're doing the "
            "two-month vaccines') gets more yeses than 'what do you want to do about vaccines?'. "
            "What else has worked for you?"
        ),
        comments=(
            DemoComment(
                "Asking what they've heard, and listening all the way to the end before "
                "answering. Half the time the worry is pain, not autism.",
                _ID,
            ),
            DemoComment(
                "Splitting the visit. If they refuse all, I ask if we can do the one I worry "
                "about most today and talk about the rest next time. Many come back.",
                _PS,
            ),
            DemoComment(
                "I tell them what I did for my own kids. It's not evidence, but it lands.",
                _AN,
            ),
            DemoComment(
                "Same, and I never dismiss families who say no. The ones who stay in the practice "
                "often vaccinate eventually.",
                _PS,
                reply_to=2,
                by_author=True,
            ),
        ),
        reactions=24,
    ),
    # ---------------------------------------------------------------- obstetrics-gynecology
    DemoPost(
        community="obstetrics-gynecology",
        kind="CASE",
        visibility=_PS,
        title="Persistent headache with BP 150/95 at 36 weeks",
        body="Headache as the only severe feature. Deliver now or reassess?",
        case=DemoCase(
            age_band="YOUNG_ADULT",
            sex="FEMALE",
            presenting_complaint=(
                "Frontal headache since the morning; BP 150/95 and 154/98 four hours apart "
                "at 36 weeks."
            ),
            history=(
                "Primigravida, normotensive at booking. Platelets 142 x10^9/L, AST 38 U/L, "
                "ALT 41 U/L, creatinine 0.7 mg/dL, urine protein-to-creatinine ratio 0.4. No "
                "visual symptoms, no epigastric pain. Headache unchanged after acetaminophen 1 g. "
                "CTG reactive."
            ),
            question=(
                "Does a headache unresponsive to analgesia count as a severe feature here? "
                "Magnesium and induction now, or one more round of treatment and reassess?"
            ),
            specialty_tags=(_OBSTETRICS_GYNECOLOGY, _MATERNAL_FETAL_MEDICINE),
        ),
        comments=(
            DemoComment(
                "New persistent headache not responding to medication is a severe feature. At "
                "36 weeks with preeclampsia with severe features you deliver. Magnesium, "
                "induction, treat BP if it goes over 160/110.",
                _ID,
            ),
            DemoComment(
                "Agree. I'd still rule out a post-dural or migraine history, but the bar to "
                "call it something else is high at that gestation.",
                _AN,
                reply_to=0,
            ),
            DemoComment(
                "Induced with magnesium running. Vaginal delivery overnight, headache gone by "
                "the next afternoon.",
                _PS,
                by_author=True,
            ),
        ),
        reactions=10,
    ),
    DemoPost(
        community="obstetrics-gynecology",
        kind="POLL",
        visibility=_AN,
        title="Elective induction at 39 weeks for low-risk nulliparas: does your unit offer it?",
        body="Curious how far practice has moved since ARRIVE.",
        poll_options=(
            "Routinely offered",
            "On request only",
            "Rarely, labor ward capacity won't allow it",
            "Not offered",
        ),
        comments=(
            DemoComment(
                "On request only here, and the waiting list for induction slots makes it "
                "theoretical most weeks.",
                _PS,
            ),
        ),
        reactions=3,
        votes=(1, 1, 2, 0, 1, 2, 2, 3),
    ),
    # ---------------------------------------------------------------- neurology
    DemoPost(
        community="neurology",
        kind="CASE",
        visibility=_AN,
        title="Wake-up stroke on apixaban: any reperfusion option?",
        body="No LVO, DOAC on board, unknown onset. Is this purely supportive care?",
        case=DemoCase(
            age_band="OLDER_ADULT",
            sex="MALE",
            presenting_complaint=(
                "Woke with right-sided weakness and expressive aphasia; last known well at "
                "bedtime. NIHSS 9."
            ),
            history=(
                "Atrial fibrillation on apixaban 5 mg bid, last dose the previous evening. "
                "Non-contrast CT without hemorrhage, ASPECTS 9. CTA: no large vessel occlusion. "
                "BP 178/96, glucose 142 mg/dL. MRI available within the hour."
            ),
            question=(
                "With a DOAC taken within 48 hours, would you consider thrombolysis at all? How "
                "do you handle not having a drug-specific anti-Xa level?"
            ),
            specialty_tags=(_NEUROLOGY, _EMERGENCY_MEDICINE),
        ),
        comments=(
            DemoComment(
                "Without a calibrated apixaban level I wouldn't lyse. Our lab runs a drug-specific "
                "anti-Xa in about 45 minutes; without it, the guideline answer is no.",
                _ID,
            ),
            DemoComment(
                "Still worth the MRI: DWI-FLAIR mismatch tells you onset was probably recent, "
                "which matters for the prognosis talk and for enrolling in any trial you have.",
                _PS,
            ),
            DemoComment(
                "And please don't reverse the DOAC just to lyse. Andexanet for that purpose is "
                "off-label and has its own thrombotic risk.",
                _AN,
                reply_to=0,
            ),
            DemoComment(
                "Thanks all. No lysis; MRI confirmed a left MCA branch infarct. Aphasia already "
                "improving on day 3 of admission.",
                _AN,
                by_author=True,
            ),
        ),
        reactions=15,
    ),
    DemoPost(
        community="neurology",
        kind="DISCUSSION",
        visibility=_ID,
        title="Anti-amyloid antibodies in clinic: who are you actually referring?",
        body=(
            "Between APOE4 genotyping, the MRI monitoring schedule and the infusion logistics, I "
            "refer far fewer patients than ask about it. Interested in how other memory clinics "
            "are drawing the line."
        ),
        comments=(
            DemoComment(
                "We require amyloid confirmation, MMSE in the mild range, no anticoagulation and "
                "fewer than five microbleeds. About one in five enquiries ends up eligible.",
                _ID,
            ),
            DemoComment(
                "APOE4 homozygotes get a long conversation about ARIA. Most decline once they "
                "hear the numbers.",
                _PS,
                reply_to=0,
            ),
            DemoComment(
                "The hardest part is the families who read the headline, not the effect size.",
                _AN,
            ),
        ),
        reactions=18,
    ),
    # ---------------------------------------------------------------- psychiatry
    DemoPost(
        community="psychiatry",
        kind="CASE",
        visibility=_PS,
        title="Catatonia or NMS on the medical ward?",
        body="Called as a consult for 'not engaging'. It's more than that.",
        case=DemoCase(
            age_band="MIDDLE_AGED",
            sex="FEMALE",
            presenting_complaint=(
                "Mute, staring, posturing and refusing food for two days after admission for "
                "a urinary tract infection."
            ),
            history=(
                "Bipolar I disorder on lithium 900 mg nightly; lithium 1.1 mmol/L on arrival. "
                "Bush-Francis score 16. CK 890 U/L, temperature 37.9 C, HR 108, BP labile. "
                "Haloperidol 5 mg IM given overnight for agitation by the cross-cover team."
            ),
            question=(
                "Lorazepam challenge is planned. How worried should I be about evolving NMS or "
                "malignant catatonia, and what's your threshold for ECT?"
            ),
            specialty_tags=(_PSYCHIATRY, _INTERNAL_MEDICINE),
        ),
        comments=(
            DemoComment(
                "Stop all antipsychotics now and flag it in the chart. Lorazepam 2 mg IV and "
                "re-score at 30 minutes. Autonomic instability plus a rising CK makes me think "
                "they're on the same spectrum.",
                _ID,
            ),
            DemoComment(
                "If she doesn't respond to lorazepam up to 8-12 mg a day within 48-72 hours, call "
                "ECT early. Malignant catatonia can deteriorate fast.",
                _PS,
                reply_to=0,
            ),
            DemoComment(
                "Also check the lithium again; with no oral intake it will climb.",
                _AN,
            ),
            DemoComment(
                "Lithium held, antipsychotic flagged as an allergy-style alert. Good partial "
                "response to lorazepam: she's speaking a few words and eating.",
                _PS,
                by_author=True,
            ),
        ),
        reactions=16,
    ),
    DemoPost(
        community="psychiatry",
        kind="DISCUSSION",
        visibility=_AN,
        title="When the patient is a colleague",
        body=(
            "I see a lot of physicians in my practice now. The hardest part isn't the "
            "diagnosis, it's that they self-titrate, ask for off-the-record prescriptions and "
            "are terrified of licensing questions. How do you set the frame early?"
        ),
        comments=(
            DemoComment(
                "I say in the first session: 'In here you're the patient. I'll treat you exactly "
                "like I'd treat anyone else, including the boring parts.' Then I stick to it.",
                _ID,
            ),
            DemoComment(
                "State physician health programs vary wildly. Know yours before they ask, because "
                "they will.",
                _PS,
            ),
            DemoComment(
                "As someone on the other side of that couch a few years ago: thank you. The frame "
                "is what made it safe.",
                _AN,
                reply_to=0,
            ),
        ),
        reactions=27,
    ),
    # ---------------------------------------------------------------- oncology
    DemoPost(
        community="oncology",
        kind="CASE",
        visibility=_ID,
        title="Checkpoint colitis only partly responding to steroids",
        body="Day 3 of prednisone and still six stools a day. When do you escalate?",
        case=DemoCase(
            age_band="OLDER_ADULT",
            sex="MALE",
            presenting_complaint=(
                "Eight watery stools a day with cramping after cycle 4 of pembrolizumab."
            ),
            history=(
                "Metastatic melanoma, partial response on the last restaging CT. C. difficile "
                "PCR negative, stool pathogen panel negative, calprotectin 620 mcg/g, CRP "
                "4.2 mg/dL. Flexible sigmoidoscopy: diffuse erythema and loss of vascular "
                "pattern. Prednisone 1 mg/kg started, partial improvement only."
            ),
            question=(
                "Infliximab now or vedolizumab? And would you ever rechallenge the PD-1 "
                "inhibitor after this?"
            ),
            specialty_tags=(_MEDICAL_ONCOLOGY, _GASTROENTEROLOGY),
        ),
        comments=(
            DemoComment(
                "No real response at 72 hours of IV-equivalent steroids is steroid-refractory. "
                "Infliximab 5 mg/kg; vedolizumab if he has liver issues or you're worried about "
                "infection.",
                _ID,
            ),
            DemoComment(
                "Rechallenge is reasonable in a responder once colitis is fully resolved, but "
                "expect recurrence in about a third. Some of us would just watch given the "
                "partial response.",
                _PS,
            ),
            DemoComment(
                "Got one dose of infliximab; down to two formed stools within four days. "
                "Steroid taper over six weeks.",
                _ID,
                by_author=True,
            ),
        ),
        reactions=13,
    ),
    DemoPost(
        community="oncology",
        kind="POLL",
        visibility=_PS,
        title="Do you give prognosis in numbers at the first visit?",
        body=(
            "A fellow asked me this and I realised I don't have a consistent answer. I tend to "
            "wait to be asked. What do you do?"
        ),
        poll_options=(
            "Yes, always offer ranges",
            "Only if the patient asks",
            "Later, once a treatment plan is set",
            "Rarely; I use best case, worst case, most likely",
        ),
        comments=(
            DemoComment(
                "I ask 'are you someone who likes numbers?' first. About half say no, and that's "
                "their right.",
                _ID,
            ),
            DemoComment(
                "Best case, worst case, most likely has been the single most useful tool I "
                "learned in fellowship.",
                _AN,
                reply_to=0,
            ),
        ),
        reactions=9,
        votes=(1, 1, 0, 3, 1, 3, 2, 1, 3),
    ),
    # ---------------------------------------------------------------- infectious disease
    DemoPost(
        community="infectious-disease",
        kind="CASE",
        visibility=_AN,
        title="MSSA bacteremia, still positive on day 5 of cefazolin",
        body="TTE clean, but nothing else is reassuring.",
        case=DemoCase(
            age_band="YOUNG_ADULT",
            sex="MALE",
            presenting_complaint=(
                "Fever 39.1 C persisting on day 5 of cefazolin 2 g q8h for MSSA bacteremia."
            ),
            history=(
                "Blood cultures positive four days running. TTE: no vegetation, normal valves. "
                "Injects drugs, last use about a week before admission. New mid-back pain, "
                "no focal neurological deficits. Creatinine 0.9 mg/dL, CRP 18 mg/dL."
            ),
            question=(
                "TEE and spine MRI now? Anyone adding a second agent for persistent MSSA "
                "bacteremia?"
            ),
            specialty_tags=(_INFECTIOUS_DISEASE, _INTERNAL_MEDICINE),
        ),
        comments=(
            DemoComment(
                "Both, today. Persistent bacteremia with new back pain is vertebral osteomyelitis "
                "or epidural abscess until MRI says no. TTE doesn't exclude endocarditis here.",
                _ID,
            ),
            DemoComment(
                "Look for a drainable source before you touch the antibiotics. Adding "
                "ertapenem has some observational support but source control comes first.",
                _PS,
                reply_to=0,
            ),
            DemoComment(
                "And please loop in addiction medicine now. Starting buprenorphine in hospital "
                "is the best thing we can do for his next admission.",
                _AN,
            ),
            DemoComment(
                "MRI: T9-T10 discitis with a small epidural collection, drained by IR. TEE "
                "negative. Cultures cleared the day after drainage, and he started "
                "buprenorphine.",
                _AN,
                by_author=True,
            ),
            DemoComment("Great outcome, and great call on the addiction consult.", _ID, reply_to=3),
        ),
        reactions=22,
    ),
    DemoPost(
        community="infectious-disease",
        kind="DISCUSSION",
        visibility=_PS,
        title="Oral step-down for endocarditis: are you doing it yet?",
        body=(
            "POET has been out for years and long-term follow-up looked fine, yet most of our "
            "endocarditis patients still go home with a PICC. Who is actually stepping down "
            "to oral, and for whom?"
        ),
        comments=(
            DemoComment(
                "Left-sided strep and MSSA after at least 10 days IV, stable, no abscess on TEE. "
                "Amoxicillin or linezolid-based combos depending on the organism.",
                _ID,
            ),
            DemoComment(
                "For people who inject drugs it has been a game changer: no line, shorter stay, "
                "fewer patients leaving against advice.",
                _PS,
                reply_to=0,
            ),
            DemoComment(
                "Our cardiac surgeons are the holdouts. They want six weeks IV for everything.",
                _AN,
            ),
        ),
        reactions=14,
    ),
    # ---------------------------------------------------------------- surgery
    DemoPost(
        community="surgery",
        kind="CASE",
        visibility=_PS,
        title="SBO in a virgin abdomen: trial of conservative management?",
        body="No adhesions to blame. Teaching says operate; the CT looks benign.",
        case=DemoCase(
            age_band="OLDER_ADULT",
            sex="FEMALE",
            presenting_complaint=(
                "Crampy abdominal pain, bilious vomiting and no flatus for 24 hours."
            ),
            history=(
                "No previous abdominal surgery. CT: transition point in the distal ileum, no "
                "closed loop, no pneumatosis, trace free fluid. No hernia on exam. Lactate "
                "1.6 mmol/L, WBC 11.2 x10^9/L, afebrile, HR 96."
            ),
            question=(
                "NG decompression and a water-soluble contrast challenge, or straight to "
                "laparoscopy?"
            ),
            specialty_tags=(_SURGERY, _DIAGNOSTIC_RADIOLOGY),
        ),
        comments=(
            DemoComment(
                "The old dogma is fading. Several series show a good share of virgin-abdomen "
                "SBOs resolve with conservative management. Gastrografin challenge with a low "
                "threshold to operate if no contrast in the colon at 24 hours.",
                _ID,
            ),
            DemoComment(
                "In an older adult with no prior surgery I'd want to know what's at the "
                "transition point: gallstone ileus, internal hernia, tumor. Look again at the "
                "images for air in the biliary tree.",
                _AN,
            ),
            DemoComment(
                "Reviewed with radiology: no pneumobilia, but a subtle mass-like thickening at "
                "the transition. Taking her for diagnostic laparoscopy.",
                _PS,
                reply_to=1,
                by_author=True,
            ),
            DemoComment(
                "Sensible. Small bowel tumors love to hide as 'adhesions in someone without "
                "adhesions'.",
                _PS,
                reply_to=2,
            ),
        ),
        reactions=11,
    ),
    DemoPost(
        community="surgery",
        kind="DISCUSSION",
        visibility=_ID,
        title="Are our residents seeing enough open cases?",
        body=(
            "Our chiefs finish with huge robotic numbers and very few open colectomies. When "
            "the robot converts at night, the person at the table may have done three open "
            "cases in their training. How are programs handling this?"
        ),
        comments=(
            DemoComment(
                "We protect a share of open cases for the chiefs on the emergency service. "
                "Attendings grumble, residents thank us later.",
                _ID,
            ),
            DemoComment(
                "Simulation helps with the steps, not the judgement. Nothing replaces a hostile "
                "abdomen at night with someone experienced across the table.",
                _PS,
            ),
            DemoComment(
                "Honest answer from a recent grad: my first open case as an attending was "
                "scarier than my first robotic one.",
                _AN,
                reply_to=1,
            ),
        ),
        reactions=20,
    ),
    # ---------------------------------------------------------------- radiology
    DemoPost(
        community="radiology",
        kind="CASE",
        visibility=_ID,
        title="Incidental spiculated 9 mm nodule on a PE study",
        body="Fleischner gives options. Which one would you recommend in the report?",
        case=DemoCase(
            age_band="MIDDLE_AGED",
            sex="FEMALE",
            presenting_complaint=(
                "Incidental solid 9 mm right upper lobe nodule on CT pulmonary angiography for "
                "pleuritic chest pain; no PE."
            ),
            history=(
                "Former smoker, 30 pack-years, quit in 2016. Spiculated margin, no "
                "lymphadenopathy, no emphysema. No prior chest imaging available for comparison."
            ),
            question=(
                "Short-interval CT, PET-CT, or tissue sampling? With spiculation would you skip "
                "straight to PET in the recommendation?"
            ),
            specialty_tags=(_DIAGNOSTIC_RADIOLOGY, _PULMONARY_DISEASE),
        ),
        comments=(
            DemoComment(
                "Brock score puts her well into the intermediate-high range with spiculation "
                "and upper lobe location. I'd recommend PET-CT and pulmonology referral in the "
                "impression, not buried in the findings.",
                _ID,
            ),
            DemoComment(
                "PET is less useful for nodules under 8 mm but fine at 9. Ask for the thin-slice "
                "reconstructions so volumetry is possible at follow-up.",
                _PS,
                reply_to=0,
            ),
            DemoComment(
                "Also: make sure someone actually owns the follow-up. Incidentals on ED studies "
                "are where nodules get lost.",
                _AN,
            ),
        ),
        reactions=12,
    ),
    DemoPost(
        community="radiology",
        kind="POLL",
        visibility=_AN,
        title="What most often makes you call the ordering team back?",
        body="Trying to make the case to our ED for better requisitions.",
        poll_options=(
            "No clinical history ('pain')",
            "Wrong study for the question",
            "Contrast ordered with eGFR under 30",
            "Protocol questions nobody can answer",
            "I never call; I read what I get",
        ),
        comments=(
            DemoComment("'Rule out everything' is my favorite indication.", _PS),
            DemoComment(
                "The wrong study is worse. A non-contrast head for suspected dissection helps "
                "nobody.",
                _ID,
                reply_to=0,
            ),
        ),
        reactions=7,
        votes=(0, 0, 0, 1, 1, 2, 3, 0, 1, 4),
    ),
    # ---------------------------------------------------------------- dermatology
    DemoPost(
        community="dermatology",
        kind="CASE",
        visibility=_AN,
        title="Leg ulcer doubled in size after debridement",
        body="Pathergy? Would like opinions on first-line systemic therapy.",
        case=DemoCase(
            age_band="MIDDLE_AGED",
            sex="FEMALE",
            presenting_complaint=(
                "Rapidly enlarging painful ulcer on the shin with violaceous undermined borders."
            ),
            history=(
                "Ulcerative colitis since 2012, on mesalamine, currently mild flare. Wound "
                "cultures grew skin flora only. Surgical debridement a week ago; ulcer now "
                "about twice the size. Biopsy from the edge: dense neutrophilic infiltrate, no "
                "vasculitis, special stains negative for organisms."
            ),
            question=(
                "Pyoderma gangrenosum seems likely. Systemic steroids, cyclosporine, or go "
                "straight to infliximab given the active colitis?"
            ),
            specialty_tags=(_DERMATOLOGY, _GASTROENTEROLOGY),
        ),
        comments=(
            DemoComment(
                "Classic pathergy. With active UC I'd go infliximab; it treats both, and the "
                "only RCT in PG supports it. Prednisone 0.5-1 mg/kg as a bridge.",
                _ID,
            ),
            DemoComment(
                "Please make sure the surgical team knows: no more debridement, and compression "
                "only once inflammation settles.",
                _PS,
            ),
            DemoComment(
                "Done, and a note in the chart in capital letters. Started prednisone and "
                "infliximab is being approved.",
                _AN,
                reply_to=1,
                by_author=True,
            ),
        ),
        reactions=10,
    ),
    DemoPost(
        community="dermatology",
        kind="DISCUSSION",
        visibility=_PS,
        title="Teledermatology photos: what's your minimum standard?",
        body=(
            "Half the referral photos I get are blurry, taken under a fluorescent light, with "
            "no scale. What do you ask referrers to send, and do you refuse to triage without it?"
        ),
        comments=(
            DemoComment(
                "Three shots: overview, mid-distance, close-up with a ruler, daylight if "
                "possible. Dermoscopy for anything pigmented or I book in person.",
                _ID,
            ),
            DemoComment(
                "And no faces or tattoos unless the lesion is there. Identifiable photos are a "
                "privacy problem waiting to happen.",
                _AN,
                reply_to=0,
            ),
            DemoComment(
                "Good point, added that to our referral template.",
                _PS,
                reply_to=1,
                by_author=True,
            ),
        ),
        reactions=8,
    ),
    # ---------------------------------------------------------------- critical care
    DemoPost(
        community="critical-care",
        kind="CASE",
        visibility=_ID,
        title="Refractory septic shock after source control",
        body="Third pressor on the table. What's your order of operations?",
        case=DemoCase(
            age_band="MIDDLE_AGED",
            sex="MALE",
            presenting_complaint=(
                "MAP 58 on norepinephrine 0.4 mcg/kg/min and vasopressin 0.04 units/min."
            ),
            history=(
                "Perforated diverticulitis, Hartmann's procedure overnight. Lactate 6.8 mmol/L, "
                "down from 8.1. Hydrocortisone 50 mg q6h started. Echo: hyperdynamic LV, small "
                "collapsing IVC after 4 L crystalloid. pH 7.18, bicarbonate 12 mmol/L, ionized "
                "calcium 0.98 mmol/L."
            ),
            question=(
                "Angiotensin II, methylene blue, epinephrine, or more volume? And would you "
                "give bicarbonate at this pH?"
            ),
            specialty_tags=(_CRITICAL_CARE, _SURGERY),
        ),
        comments=(
            DemoComment(
                "Replace the calcium first, it's cheap. Then a small fluid bolus with "
                "reassessment, since the IVC is still collapsing. Then epinephrine before the "
                "exotic stuff.",
                _ID,
            ),
            DemoComment(
                "BICAR-ICU showed benefit for bicarbonate in the AKI subgroup with pH under "
                "7.20. Check his creatinine trend.",
                _PS,
            ),
            DemoComment(
                "Angiotensin II worked for us in a similar case, but watch for thrombosis. "
                "Methylene blue if it's vasoplegia after a long case.",
                _AN,
                reply_to=0,
            ),
            DemoComment(
                "Calcium replaced, 500 mL more, epinephrine at 0.05. Norepinephrine weaned to "
                "0.2 by the morning and lactate 3.1.",
                _ID,
                by_author=True,
            ),
        ),
        reactions=16,
    ),
    DemoPost(
        community="critical-care",
        kind="POLL",
        visibility=_PS,
        title="SpO2 target for ventilated adults without COPD?",
        body="The trials disagree just enough that every unit seems to do something different.",
        poll_options=(
            "88-92%",
            "90-94%",
            "92-96%",
            "94-98%",
            "Whatever stops the alarms",
        ),
        comments=(
            DemoComment(
                "92-96% and actively weaning FiO2. The bigger problem is nobody weans it.",
                _ID,
            ),
            DemoComment(
                "Pulse oximeters over-read in darker skin. We aim a little higher for that reason.",
                _PS,
                reply_to=0,
            ),
        ),
        reactions=5,
        votes=(2, 2, 1, 2, 3, 2, 1, 4),
    ),
    # ---------------------------------------------------------------- second opinions
    DemoPost(
        community="second-opinions",
        kind="CASE",
        visibility=_AN,
        title="Bethesda III twice: molecular testing or lobectomy?",
        body=(
            "Patient is anxious and has been told two different things by two surgeons. "
            "Looking for an independent view."
        ),
        case=DemoCase(
            age_band="MIDDLE_AGED",
            sex="FEMALE",
            presenting_complaint="Incidental 2.2 cm right thyroid nodule on a carotid ultrasound.",
            history=(
                "TI-RADS 4, solid, isoechoic, no microcalcifications. Two FNAs a few months "
                "apart, both Bethesda III (AUS). TSH 1.8 mIU/L. No neck irradiation, no family "
                "history of thyroid cancer. No compressive symptoms."
            ),
            question=(
                "Molecular testing on the existing material, or diagnostic lobectomy? If "
                "molecular is benign, how long would you follow?"
            ),
            specialty_tags=(_ENDOCRINOLOGY, _SURGERY),
        ),
        comments=(
            DemoComment(
                "Molecular testing first. A benign result on a modern classifier gives a "
                "negative predictive value in the high 90s, and she avoids surgery. Repeat "
                "ultrasound at 12-24 months.",
                _ID,
            ),
            DemoComment(
                "If it's RAS-positive, lobectomy. Those are usually low-risk lesions but you "
                "won't know without the capsule.",
                _PS,
                reply_to=0,
            ),
            DemoComment(
                "Thanks, that's how I'll frame it for her. Neither surgeon was wrong, they just "
                "weighted things differently.",
                _AN,
                by_author=True,
            ),
        ),
        reactions=9,
    ),
    DemoPost(
        community="second-opinions",
        kind="CASE",
        visibility=_PS,
        title="Third recurrence of pericarditis on colchicine",
        body="Steroid-dependent and miserable. Next step?",
        case=DemoCase(
            age_band="YOUNG_ADULT",
            sex="MALE",
            presenting_complaint=(
                "Pleuritic chest pain with diffuse ST elevation and a small effusion; third "
                "recurrence in a year."
            ),
            history=(
                "Idiopathic recurrent pericarditis. Colchicine 0.5 mg bid for months, ibuprofen "
                "600 mg tid during flares. Flares whenever prednisone goes below 10 mg daily. "
                "CRP 6.4 mg/dL. Cardiac MRI: pericardial late enhancement, no constriction. "
                "Autoimmune screen and TB testing negative."
            ),
            question=(
                "IL-1 blockade now (anakinra or rilonacept), or another slower steroid taper first?"
            ),
            specialty_tags=(_CARDIOLOGY, _RHEUMATOLOGY),
        ),
        comments=(
            DemoComment(
                "Steroid-dependent with MRI enhancement is exactly the group in RHAPSODY. I'd "
                "start rilonacept and taper the prednisone over a few weeks.",
                _ID,
            ),
            DemoComment(
                "Agree with IL-1. Counsel him it may be long-term; recurrences were common after "
                "stopping in the withdrawal phase.",
                _AN,
                reply_to=0,
            ),
            DemoComment(
                "Insurance approval is the real obstacle. Anakinra sometimes gets through faster.",
                _PS,
            ),
            DemoComment(
                "That matched my experience: anakinra approved in a week, rilonacept still "
                "pending appeal.",
                _PS,
                reply_to=2,
                by_author=True,
            ),
        ),
        reactions=7,
    ),
    DemoPost(
        community="second-opinions",
        kind="DISCUSSION",
        visibility=_ID,
        title="Writing a second opinion without undermining the first doctor",
        body=(
            "I disagree with the primary team's plan about one patient in four that I see for "
            "second opinions. I want to be honest with the patient without torching a colleague "
            "or the therapeutic relationship. How do you word the letter?"
        ),
        comments=(
            DemoComment(
                "I call the first physician before the letter goes out. Half the time there's "
                "context I didn't have, and the letter gets softer or stronger accordingly.",
                _ID,
            ),
            DemoComment(
                "I write 'a reasonable alternative would be' rather than 'the correct approach "
                "is'. Usually both are reasonable.",
                _PS,
            ),
            DemoComment(
                "Patients can tell when we're protecting each other. Clear disagreement, "
                "politely stated, is more respectful than hedging.",
                _AN,
                reply_to=1,
            ),
        ),
        reactions=15,
    ),
    # ---------------------------------------------------------------- lounge: humor
    DemoPost(
        community="lounge-humor",
        kind="DISCUSSION",
        visibility=_PS,
        title="Things I now say at home that I learned on the wards",
        body=(
            "Told my partner their complaint about dinner was 'noted and will be reassessed in "
            "the morning'. They were not amused. Share yours."
        ),
        comments=(
            DemoComment(
                "Asked my kid to rate their scraped-knee pain from 0 to 10. They said 11.", _ID
            ),
            DemoComment(
                "That kid has a future in emergency medicine.",
                _AN,
                reply_to=0,
            ),
            DemoComment(
                "I caught myself saying 'any questions, concerns, or chest pain?' at the end of a "
                "dinner party.",
                _PS,
            ),
            DemoComment(
                "My spouse now signs off disagreements with 'family declines recommended "
                "intervention'.",
                _AN,
            ),
            DemoComment(
                "Documenting this thread for the quality committee.",
                _PS,
                reply_to=3,
                by_author=True,
            ),
        ),
        reactions=41,
    ),
    DemoPost(
        community="lounge-humor",
        kind="POLL",
        visibility=_AN,
        title="The most feared sentence at 3 am",
        body="Vote honestly. We've all been there.",
        poll_options=(
            "'Just a quick question...'",
            "'He just doesn't look right'",
            "'The family is here and wants to talk'",
            "'Are you sitting down?'",
            "'Don't worry, it's nothing urgent'",
        ),
        comments=(
            DemoComment(
                "'It's nothing urgent' is always followed by something urgent.",
                _PS,
            ),
            DemoComment(
                "'Doesn't look right' from a nurse with 20 years on the unit gets me out of bed "
                "faster than any lab value.",
                _ID,
            ),
        ),
        reactions=29,
        votes=(0, 1, 1, 4, 1, 0, 2, 4, 1, 1, 3, 4),
    ),
    DemoPost(
        community="lounge-humor",
        kind="DISCUSSION",
        visibility=_ID,
        title="The pager refuses to die",
        body=(
            "We have secure messaging on our phones, a hospital app and a paging system. "
            "Yesterday the same question reached me through all three, within a minute, from "
            "the same person."
        ),
        comments=(
            DemoComment(
                "The pager will outlive us all. Archaeologists will find it still beeping.",
                _PS,
            ),
            DemoComment(
                "Our hospital retired pagers and then quietly brought them back for codes. "
                "Turns out cockroaches and pagers survive everything.",
                _AN,
            ),
        ),
        reactions=22,
    ),
    # ---------------------------------------------------------------- lounge: politics
    DemoPost(
        community="lounge-politics",
        kind="DISCUSSION",
        visibility=_AN,
        title="Prior authorization for a generic statin. A generic statin.",
        body=(
            "Atorvastatin 40 mg, costs less than a coffee per month, denied pending 'step "
            "therapy documentation'. Spent 25 minutes on hold. Is anyone seeing the new prior "
            "auth reform rules make any difference in practice yet?"
        ),
        comments=(
            DemoComment(
                "Not yet. Gold-carding exists on paper in some states but I've never met a "
                "physician who qualified.",
                _ID,
            ),
            DemoComment(
                "I've started documenting the time spent on every prior auth. Our group sends a "
                "quarterly total to our state medical society. It adds up to several FTEs.",
                _PS,
            ),
            DemoComment(
                "That's a great idea, stealing it.",
                _AN,
                reply_to=1,
                by_author=True,
            ),
            DemoComment(
                "The peer-to-peer with a reviewer from a completely different specialty is the "
                "part that makes me want to scream into a pillow.",
                _AN,
            ),
        ),
        reactions=38,
    ),
    DemoPost(
        community="lounge-politics",
        kind="POLL",
        visibility=_ID,
        title="Should employed physicians unionize?",
        body=(
            "Residents have done it at a growing number of programs and some attending groups "
            "are following. Where do you stand?"
        ),
        poll_options=(
            "Yes, it's overdue",
            "Yes, but only for employed physicians",
            "Undecided",
            "No, it conflicts with professional duty",
        ),
        comments=(
            DemoComment(
                "Unions negotiate staffing and schedules, not whether we care for patients. I "
                "don't see the conflict.",
                _PS,
            ),
            DemoComment(
                "I worry about strikes, but I also worry about the current trajectory more.",
                _ID,
                reply_to=0,
            ),
            DemoComment("Undecided, reading everything I can about it.", _AN),
        ),
        reactions=11,
        votes=(0, 0, 1, 0, 2, 3, 0, 1, 2, 0),
    ),
    # ---------------------------------------------------------------- lounge: burnout
    DemoPost(
        community="lounge-burnout",
        kind="DISCUSSION",
        visibility=_AN,
        title="Sat in the car for twenty minutes after a code today",
        body=(
            "Young patient, long code, didn't get them back. I told the family, finished the "
            "shift, and then couldn't turn the key. I'm okay. I just needed to say it somewhere "
            "people would understand."
        ),
        comments=(
            DemoComment(
                "Thank you for saying it. Twenty minutes in the car is a normal human response "
                "to an abnormal day. Be gentle with yourself tonight.",
                _ID,
            ),
            DemoComment(
                "Same thing happened to me last winter. What helped was a short debrief with "
                "the team the next day. Ask for one if your unit does them.",
                _PS,
            ),
            DemoComment(
                "I'll ask. Nobody mentioned one, but I bet the nurses need it too.",
                _AN,
                reply_to=1,
                by_author=True,
            ),
            DemoComment(
                "They do. And if it's still heavy in a couple of weeks, talk to someone. "
                "There's no shame in it. Sending you strength.",
                _AN,
                reply_to=2,
            ),
        ),
        reactions=57,
    ),
    DemoPost(
        community="lounge-burnout",
        kind="POLL",
        visibility=_PS,
        title="How many hours of charting after your last patient?",
        body="Pajama time survey. Be honest, nobody here will judge.",
        poll_options=(
            "Under 1 hour",
            "1-2 hours",
            "2-3 hours",
            "More than 3 hours",
            "I don't want to talk about it",
        ),
        comments=(
            DemoComment(
                "Ambient AI scribe brought me from 2-3 down to under 1. Not perfect, but I see "
                "my kids at dinner now.",
                _ID,
            ),
            DemoComment(
                "Which one? Our pilot notes were so verbose that editing took as long as writing.",
                _AN,
                reply_to=0,
            ),
            DemoComment(
                "Voted 'don't want to talk about it'. That's my answer.",
                _PS,
            ),
        ),
        reactions=18,
        votes=(0, 1, 1, 2, 2, 3, 4, 1, 2, 4, 2),
    ),
    DemoPost(
        community="lounge-burnout",
        kind="DISCUSSION",
        visibility=_PS,
        title="Took a month off. Here's what happened",
        body=(
            "Unpaid, first time since residency. The practice survived. My patients survived. "
            "I slept nine hours a night for the first week and then started reading novels "
            "again. If you're on the fence, the world does not end."
        ),
        comments=(
            DemoComment(
                "Needed to read this today. How did you handle the inbox while away?",
                _ID,
            ),
            DemoComment(
                "A colleague covered results, and I set an auto-reply for portal messages. Came "
                "back to a manageable pile, not a mountain.",
                _PS,
                reply_to=0,
                by_author=True,
            ),
            DemoComment(
                "Taking two weeks in the spring because of this thread.",
                _AN,
            ),
        ),
        reactions=33,
    ),
    # ---------------------------------------------------------------- lounge: careers
    DemoPost(
        community="lounge-careers",
        kind="DISCUSSION",
        visibility=_ID,
        title="Non-compete in my first attending contract: what's negotiable?",
        body=(
            "Two-year non-compete, 25 miles from any practice site, including sites I'll never "
            "work at. Also a tail coverage clause I don't fully understand. What did you push "
            "back on, and did it work?"
        ),
        comments=(
            DemoComment(
                "Everything is negotiable before you sign, almost nothing after. Ask that the "
                "radius apply only to the sites where you actually practice.",
                _ID,
            ),
            DemoComment(
                "Get a healthcare contract attorney. A few hundred dollars saved me a lot when I "
                "changed jobs.",
                _PS,
            ),
            DemoComment(
                "On tail: if it's claims-made malpractice, ask the employer to pay tail if they "
                "terminate you without cause. Mine agreed.",
                _AN,
                reply_to=0,
            ),
            DemoComment(
                "Thank you. Sent a redline on radius and tail; they accepted the radius change.",
                _ID,
                reply_to=2,
                by_author=True,
            ),
        ),
        reactions=26,
    ),
    DemoPost(
        community="lounge-careers",
        kind="POLL",
        visibility=_AN,
        title="After fellowship: academic or private practice?",
        body="Finishing soon and torn. What did you choose and would you choose it again?",
        poll_options=(
            "Academic, would do it again",
            "Academic, would not",
            "Private practice, would do it again",
            "Private practice, would not",
            "Hospital-employed, somewhere in between",
        ),
        comments=(
            DemoComment(
                "Academic for five years, then private practice. Glad I did both, in that order.",
                _ID,
            ),
            DemoComment(
                "Private equity bought my practice two years after I joined. Read the ownership "
                "structure carefully.",
                _AN,
            ),
        ),
        reactions=10,
        votes=(0, 2, 4, 2, 1, 4, 0, 2, 4, 3),
    ),
    DemoPost(
        community="lounge-careers",
        kind="DISCUSSION",
        visibility=_PS,
        title="A year of locums before settling down: good idea?",
        body=(
            "I'm finishing residency with no geographic ties and thinking of a year of locums "
            "to see different systems before committing. What am I not thinking about?"
        ),
        comments=(
            DemoComment(
                "Credentialing takes forever, so start early. Keep every document in one place.",
                _ID,
            ),
            DemoComment(
                "Budget for taxes as a contractor and health insurance. The hourly rate looks "
                "better than it is.",
                _PS,
            ),
            DemoComment(
                "Did it. Best year of my career, and I ended up staying at my third assignment.",
                _AN,
            ),
        ),
        reactions=12,
    ),
    # ---------------------------------------------------------------- lounge: stories
    DemoPost(
        community="lounge-stories",
        kind="DISCUSSION",
        visibility=_PS,
        title="Night shift: the quietest save of my career",
        body=(
            "Overnight, a nurse asked me to look at a post-op patient 'because he's too calm'. "
            "Vitals fine, chatting away. Something in his color bothered both of us. Lactate "
            "came back 5.2. Anastomotic leak, back to the OR before sunrise. He went home a week "
            "later. I still think about how easily we could have waited for morning."
        ),
        comments=(
            DemoComment(
                "'Too calm' from an experienced nurse is a vital sign. Glad you listened.",
                _ID,
            ),
            DemoComment(
                "We had one like this: patient apologised for bothering us, sat up fine, had a "
                "saddle PE on CT an hour later.",
                _AN,
            ),
            DemoComment(
                "This is why I tell residents the nurse's worry goes on the differential.",
                _PS,
                reply_to=0,
                by_author=True,
            ),
        ),
        reactions=44,
    ),
    DemoPost(
        community="lounge-stories",
        kind="DISCUSSION",
        visibility=_ID,
        title="The patient who taught me to sit down",
        body=(
            "As an intern I delivered bad news standing up, one hand on the door. A patient "
            "asked me to sit, and said 'you'll remember this conversation longer than I will'. "
            "I've sat down for every difficult conversation since."
        ),
        comments=(
            DemoComment(
                "Studies show patients estimate the visit as longer when the doctor sits. It "
                "costs nothing.",
                _PS,
            ),
            DemoComment("Sitting down right now and sharing this with my residents.", _AN),
        ),
        reactions=36,
    ),
    # ---------------------------------------------------------------- lounge: news
    DemoPost(
        community="lounge-news",
        kind="DISCUSSION",
        visibility=_ID,
        title="New hypertension guideline: what's changing in your clinic?",
        body=(
            "The updated ACC/AHA hypertension guideline leans on PREVENT risk estimates, "
            "single-pill combinations earlier, and a target under 130/80 for most adults. "
            "Curious what people are actually changing on Monday morning."
        ),
        comments=(
            DemoComment(
                "Single-pill combinations from the start for stage 2. Adherence goes up, my "
                "inbox goes down.",
                _ID,
            ),
            DemoComment(
                "Our EHR still uses the old pooled cohort equations. Until that changes, "
                "PREVENT is a separate tab nobody opens.",
                _PS,
                reply_to=0,
            ),
            DemoComment(
                "The real change for us is home BP monitoring for everyone. Cuffs are finally "
                "covered by most plans.",
                _AN,
            ),
        ),
        reactions=19,
    ),
    DemoPost(
        community="lounge-news",
        kind="POLL",
        visibility=_PS,
        title="Breast cancer screening from age 40: has your practice switched?",
        body=(
            "USPSTF moved biennial mammography down to age 40. Radiology capacity was already "
            "tight here. Where are you?"
        ),
        poll_options=(
            "Yes, fully switched",
            "Offering it but not actively reaching out",
            "Not yet, capacity problems",
            "Was already starting at 40",
        ),
        comments=(
            DemoComment(
                "Fully switched, and wait times for diagnostic mammograms doubled.",
                _PS,
            ),
            DemoComment(
                "Most of my patients were already asking. The guideline just caught up.",
                _ID,
            ),
        ),
        reactions=8,
        votes=(1, 1, 0, 2, 3, 1, 1, 2),
    ),
)
