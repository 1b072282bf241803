"""The question catalog: schema, bank, calendar occasions and data-quality checks."""

from recsys.catalog.bank import CATEGORIES, OCCASIONS, BankError, QuestionBank, load_bank
from recsys.catalog.calendar import Birthday, active_occasions, birthday_date, occasion_windows
from recsys.catalog.schema import AgeGroup, Category, Occasion, Question
from recsys.catalog.validate import validate_bank

__all__ = [
    "CATEGORIES",
    "OCCASIONS",
    "AgeGroup",
    "BankError",
    "Birthday",
    "Category",
    "Occasion",
    "Question",
    "QuestionBank",
    "active_occasions",
    "birthday_date",
    "load_bank",
    "occasion_windows",
    "validate_bank",
]
