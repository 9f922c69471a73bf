"""Organizations. A minimal model for now: the registry issue extends it."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin

CIRCOSCRIZIONI: dict[int, str] = {
    1: "Centro, Crocetta",
    2: "Santa Rita, Mirafiori Nord, Mirafiori Sud",
    3: "San Paolo, Cenisia, Pozzo Strada, Cit Turin, Borgata Lesna",
    4: "San Donato, Campidoglio, Parella",
    5: "Borgo Vittoria, Madonna di Campagna, Lucento, Vallette",
    6: "Barriera di Milano, Regio Parco, Barca, Bertolla, Falchera, Rebaudengo, Villaretto",
    7: "Aurora, Vanchiglia, Sassi, Madonna del Pilone",
    8: "San Salvario, Cavoretto, Borgo Po, Nizza Millefonti, Lingotto, Filadelfia",
}


class Organization(TimestampMixin, Base):
    __tablename__ = "organization"
    __table_args__ = (CheckConstraint("circoscrizione BETWEEN 1 AND 8", name="circoscrizione"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    circoscrizione: Mapped[int] = mapped_column(Integer)
    is_job_service: Mapped[bool] = mapped_column(Boolean, default=False)
    is_hub: Mapped[bool] = mapped_column(Boolean, default=False)
    is_housing_provider: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name!r}>"
