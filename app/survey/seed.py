"""The standard question set every territory starts from (French and English): feeling
of safety by day and by night, avoidance, what would help, the map, where the respondent
lives (habitant of a quartier or usager of the town) and an optional profile, each
profile question with "je préfère ne pas répondre"."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Quartier, Question, QuestionSet, Territory

STANDARD_LINEAGE = "standard"


def _o(key: str, label_fr: str, label_en: str) -> dict:
    return {"key": key, "label_fr": label_fr, "label_en": label_en}


NO_ANSWER = {
    "key": "no_answer",
    "label_fr": "Je préfère ne pas répondre",
    "label_en": "I prefer not to say",
}
FEELING_SCALE = [
    _o("very_safe", "Tout à fait en sécurité", "Very safe"),
    _o("rather_safe", "Plutôt en sécurité", "Fairly safe"),
    _o("rather_unsafe", "Plutôt en insécurité", "Fairly unsafe"),
    _o("very_unsafe", "Tout à fait en insécurité", "Very unsafe"),
]  # fmt: skip
FREQUENCY_SCALE = [
    _o("never", "Jamais", "Never"),
    _o("sometimes", "Parfois", "Sometimes"),
    _o("often", "Souvent", "Often"),
    _o("always", "Toujours", "Always"),
]  # fmt: skip
SAFER = [
    _o("lighting", "Un meilleur éclairage", "Better lighting"),
    _o("presence", "Plus de monde (commerces, animations)", "More people around (shops, events)"),
    _o("police", "Plus de présence de police ou de médiateurs", "More police or mediators"),
    _o("maintenance", "Des espaces mieux entretenus", "Better kept public spaces"),
    _o("layout", "Des rues et des places réaménagées", "Redesigned streets and squares"),
    _o("transport", "Des transports plus sûrs le soir", "Safer transport in the evening"),
    _o("neighbours", "Plus de lien entre voisins", "More ties between neighbours"),
]  # fmt: skip
RESIDENCE = [
    _o("resident", "J'habite la commune", "I live in the town"),
    _o("user", "J'y viens (travail, études, loisirs)", "I come here (work, study, leisure)"),
]  # fmt: skip
AGE_BANDS = [
    _o("under_18", "Moins de 18 ans", "Under 18"),
    _o("18_29", "18 à 29 ans", "18 to 29"),
    _o("30_44", "30 à 44 ans", "30 to 44"),
    _o("45_59", "45 à 59 ans", "45 to 59"),
    _o("60_74", "60 à 74 ans", "60 to 74"),
    _o("75_plus", "75 ans et plus", "75 and over"),
    NO_ANSWER,
]  # fmt: skip
GENDERS = [
    _o("woman", "Femme", "Woman"),
    _o("man", "Homme", "Man"),
    _o("other", "Autre", "Other"),
    NO_ANSWER,
]  # fmt: skip

# The question keys the results read (by quartier, by profile): kept across versions.
QUARTIER_KEY = "quartier"
RESIDENCE_KEY = "residence"
GENDER_KEY = "gender"
AGE_KEY = "age_band"


def standard_questions(quartiers: list[Quartier]) -> list[dict]:
    """The standard questions, in order; the quartier question lists the territory's."""
    quartier_options = [_o(q.code, q.name, q.name) for q in quartiers] + [NO_ANSWER]
    return [
        {"key": "feeling_day", "kind": "scale", "required": True, "options": FEELING_SCALE,
         "label_fr": "En journée, vous sentez-vous en sécurité dans votre quartier ?",
         "label_en": "During the day, do you feel safe in your neighbourhood?"},
        {"key": "feeling_night", "kind": "scale", "required": True, "options": FEELING_SCALE,
         "label_fr": "Le soir et la nuit, vous sentez-vous en sécurité dans votre quartier ?",
         "label_en": "In the evening and at night, do you feel safe in your neighbourhood?"},
        {"key": "avoidance", "kind": "scale", "options": FREQUENCY_SCALE,
         "label_fr": "Vous arrive-t-il d'éviter certains lieux ou certains horaires ?",
         "label_en": "Do you avoid some places or some times of day?"},
        {"key": "safer", "kind": "multiple", "options": SAFER, "allow_other": True,
         "label_fr": "Qu'est-ce qui vous ferait vous sentir plus en sécurité ?",
         "label_en": "What would make you feel safer?",
         "help_fr": "Plusieurs réponses possibles.", "help_en": "Several answers possible."},
        {"key": "places", "kind": "map",
         "label_fr": "Où vous sentez-vous en insécurité, ou au contraire en sécurité ?",
         "label_en": "Where do you feel unsafe, or on the contrary safe?",
         "help_fr": "Touchez la carte pour placer un point, autant que vous voulez.",
         "help_en": "Tap the map to place a point, as many as you like."},
        {"key": RESIDENCE_KEY, "kind": "single", "options": RESIDENCE,
         "label_fr": "Vous êtes…", "label_en": "You are…"},
        {"key": QUARTIER_KEY, "kind": "single", "options": quartier_options,
         "label_fr": "Dans quel quartier habitez-vous ?",
         "label_en": "Which neighbourhood do you live in?",
         "help_fr": "Si vous habitez la commune.", "help_en": "If you live in the town."},
        {"key": "comment", "kind": "text",
         "label_fr": "Souhaitez-vous ajouter quelque chose ?",
         "label_en": "Is there anything you would like to add?",
         "help_fr": "Votre texte est relu avant toute diffusion. N'y mettez ni nom ni adresse.",
         "help_en": "Your text is read before anything is shared. Do not put names or addresses."},
        {"key": AGE_KEY, "kind": "single", "section": "profile", "options": AGE_BANDS,
         "label_fr": "Votre âge (facultatif)", "label_en": "Your age (optional)"},
        {"key": GENDER_KEY, "kind": "single", "section": "profile", "options": GENDERS,
         "label_fr": "Vous êtes (facultatif)", "label_en": "You are (optional)"},
    ]  # fmt: skip


def seed_standard_set(territory: Territory) -> QuestionSet:
    """The territory's standard question set, made (version 1) when it has none; the
    latest version otherwise. The caller commits."""
    latest = db.session.scalar(
        sa.select(QuestionSet)
        .where(QuestionSet.territory_id == territory.id, QuestionSet.lineage == STANDARD_LINEAGE)
        .order_by(QuestionSet.version.desc())
        .limit(1)
    )
    if latest is not None:
        return latest
    question_set = QuestionSet(
        territory_id=territory.id,
        lineage=STANDARD_LINEAGE,
        version=1,
        title="Questionnaire sur le sentiment de sécurité",
    )
    for position, spec in enumerate(standard_questions(list(territory.quartiers))):
        question_set.questions.append(Question(position=position, **spec))
    db.session.add(question_set)
    db.session.flush()
    return question_set
