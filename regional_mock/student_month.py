"""Generate each class's homework and each child's marks, absences and messages."""

from __future__ import annotations

import datetime as dt
import random
import typing as t
from collections import defaultdict

from regional_mock import world_data as data
from regional_mock.records import Absence
from regional_mock.records import Attachment
from regional_mock.records import Homework
from regional_mock.records import Lesson
from regional_mock.records import Mark
from regional_mock.records import Message
from regional_mock.records import SchoolClass
from regional_mock.records import Student
from regional_mock.records import WorkType

if t.TYPE_CHECKING:
    from regional_mock.generate import Builder

# How each system shows the non-numeric mark every child must have: (kind, shown).
# NetSchool's web diary has only the owed-work dot (mark null, dutyMark true) on the wire.
NON_NUMERIC = {"netschool": ("dot", "•"), "mesh": ("text", "зч"), "dnevnik_ru": ("text", "н/а")}
MARK_ODDS = ((5, 35), (4, 40), (3, 18), (2, 7))
NO_HOMEWORK = frozenset({"Физическая культура", "Музыка", "Изобразительное искусство"})


class StudentMonth:
    """Generate the per-class and per-child records of the month for a ``Builder``."""

    def __init__(self, builder: Builder) -> None:
        """Start with empty collections."""
        self.builder = builder
        self.marks: list[Mark] = []
        self.homework: list[Homework] = []
        self.absences: list[Absence] = []
        self.messages: list[Message] = []

    def collections(self) -> dict[str, tuple[object, ...]]:
        """Return the generated records by name."""
        return {
            "marks": tuple(self.marks),
            "homework": tuple(self.homework),
            "absences": tuple(self.absences),
            "messages": tuple(self.messages),
        }

    def add_homework(self, school_class: SchoolClass, lessons: list[Lesson]) -> None:
        """Set homework on about half of the lessons, due on the subject's next lesson."""
        builder = self.builder
        rng = builder.rng
        by_course: dict[int, list[Lesson]] = defaultdict(list)
        for lesson in lessons:
            if lesson.status == "planned":
                by_course[lesson.course_id].append(lesson)
        pairs = []
        for course_id in sorted(by_course):
            course_lessons = by_course[course_id]
            if course_lessons[0].subject in NO_HOMEWORK:
                continue
            for issued, due in zip(course_lessons, course_lessons[1:], strict=False):
                if rng.random() < 0.55:
                    pairs.append((issued, due))
        pairs.sort(key=lambda pair: (pair[1].date, pair[1].number))
        upcoming = [i for i, (_, due) in enumerate(pairs) if due.date > builder.today]
        past = [i for i, (_, due) in enumerate(pairs) if due.date <= builder.today]
        forced = set(upcoming[:1]) | ({rng.choice(past)} if past else set())
        plain = set(upcoming[1:2])
        for index, (issued, due) in enumerate(pairs):
            with_file = index in forced or (index not in plain and rng.random() < 0.12)
            self.homework.append(self._homework(school_class, issued, due, rng, with_file))

    def _homework(
        self,
        school_class: SchoolClass,
        issued: Lesson,
        due: Lesson,
        rng: random.Random,
        with_file: bool,
    ) -> Homework:
        """Create one homework record, with an attachment when asked."""
        a = rng.randint(5, 60)
        text = rng.choice(data.HOMEWORK_TEXTS).format(a=a, b=a + rng.randint(1, 5), c=a + 6)
        attachments: tuple[Attachment, ...] = ()
        if with_file:
            name, description = rng.choice(data.ATTACHMENT_NAMES)
            attachments = (
                Attachment(
                    id=self.builder.next_id("attachment"), name=name, description=description
                ),
            )
        return Homework(
            id=self.builder.next_id("assignment"),
            class_id=school_class.id,
            subject=issued.subject,
            teacher_id=issued.teacher_id,
            text=text,
            assigned_on=issued.date,
            due_on=due.date,
            issued_lesson_id=issued.id,
            due_lesson_id=due.id,
            attachments=attachments,
        )

    def add_student(self, student: Student, lessons: list[Lesson]) -> None:
        """Generate a child's absences, marks and messages from the child's own seed."""
        rng = random.Random(f"{self.builder.seed}/{student.id}")
        today = self.builder.today
        held = [x for x in lessons if x.date < today and x.status != "cancelled"]
        recent = [x for x in held if x.date >= today - dt.timedelta(days=27)]
        missed = self._absences(student, recent, rng)
        gradable = [x for x in held if x.id not in missed]
        self._marks(student, gradable, rng)
        self._messages(student, rng)

    def _absences(self, student: Student, recent: list[Lesson], rng: random.Random) -> set[int]:
        """Add a day of illness and single unexcused, excused and late lessons."""
        days = sorted({x.date for x in recent})
        ill_day, unexcused_day, excused_day, late_day = rng.sample(days, 4)
        picks = [(x, "ill") for x in recent if x.date == ill_day]
        for day, kind in ((unexcused_day, "unexcused"), (excused_day, "excused")):
            picks.append((rng.choice([x for x in recent if x.date == day]), kind))
        picks.append((next(x for x in recent if x.date == late_day), "late"))
        for lesson, kind in sorted(picks, key=lambda p: (p[0].date, p[0].number)):
            self.absences.append(
                Absence(
                    student_id=student.id,
                    lesson_id=lesson.id,
                    date=lesson.date,
                    subject=lesson.subject,
                    number=lesson.number,
                    kind=kind,
                )
            )
        return {lesson.id for lesson, kind in picks if kind != "late"}

    def _marks(self, student: Student, gradable: list[Lesson], rng: random.Random) -> None:
        """Add the required special marks, then everyday marks on about a third of lessons."""
        school = next(s for s in self.builder.schools if s.id == student.school_id)
        window = self.builder.today - dt.timedelta(days=27)
        recent = [x for x in gradable if x.date >= window]
        test, odd, commented, low = rng.sample(recent, 4)
        kind, shown = NON_NUMERIC[school.system]
        specials = {
            test.id: [self._mark(student, test, rng.choice((4, 8)), rng.choice((3, 4, 5)))],
            odd.id: [self._mark(student, odd, 5, None, kind=kind, shown=shown)],
            commented.id: [
                self._mark(student, commented, 10, rng.choice((4, 5)), comment=data.COMMENTS[0])
            ],
            low.id: [self._mark(student, low, rng.choice((10, 5)), 2)],
        }
        for lesson in gradable:
            marks = specials.get(lesson.id)
            if marks is None:
                marks = self._random_marks(student, lesson, rng)
            self.marks.extend(marks)

    def _random_marks(self, student: Student, lesson: Lesson, rng: random.Random) -> list[Mark]:
        """Return zero, one or (rarely) two everyday marks for a lesson."""
        if rng.random() >= 0.3:
            return []
        group = rng.choices((data.EVERYDAY_TYPES, data.CHECK_TYPES, data.TEST_TYPES), (70, 22, 8))[
            0
        ]
        value = rng.choices([v for v, _ in MARK_ODDS], [w for _, w in MARK_ODDS])[0]
        comment = rng.choice(data.COMMENTS[1:]) if rng.random() < 0.05 else None
        marks = [self._mark(student, lesson, rng.choice(group), value, comment=comment)]
        if rng.random() < 0.1:
            second = rng.choices([v for v, _ in MARK_ODDS], [w for _, w in MARK_ODDS])[0]
            marks.append(self._mark(student, lesson, rng.choice(data.CHECK_TYPES), second))
        return marks

    def _mark(
        self,
        student: Student,
        lesson: Lesson,
        type_id: int,
        value: int | None,
        *,
        kind: str = "numeric",
        shown: str | None = None,
        comment: str | None = None,
    ) -> Mark:
        """Create one mark of a student for a lesson."""
        return make_mark(
            mark_id=self.builder.next_id("assignment"),
            student_id=student.id,
            lesson=lesson,
            work_type=self.builder.work_type(type_id),
            value=value,
            kind=kind,
            shown=shown,
            comment=comment,
        )

    def _messages(self, student: Student, rng: random.Random) -> None:
        """Add a message asking for acknowledgement and an ordinary one."""
        school_class = next(c for c in self.builder.classes if c.id == student.class_id)
        today = self.builder.today
        first_name = student.full_name.split()[1]
        ask = Message(
            id=self.builder.next_id("post"),
            student_id=student.id,
            sender_id=school_class.teacher_id,
            subject="Экскурсия: нужно ваше согласие",
            body=(
                f"Уважаемые родители! {rng.choice(('В пятницу', 'На следующей неделе'))} "
                f"класс едет на экскурсию в краеведческий музей. Пожалуйста, подтвердите, "
                f"что вы ознакомились с сообщением и {first_name} поедет с классом."
            ),
            sent_at=dt.datetime.combine(today - dt.timedelta(days=1), dt.time(16, 40, 5)),
            needs_acknowledgement=True,
        )
        info = Message(
            id=self.builder.next_id("post"),
            student_id=student.id,
            sender_id=school_class.teacher_id,
            subject="Расписание на следующую неделю",
            body="В расписании следующей недели есть замена и отмена урока, проверьте дневник.",
            sent_at=dt.datetime.combine(today - dt.timedelta(days=3), dt.time(12, 5, 44)),
        )
        self.messages.extend((ask, info))


def make_mark(
    *,
    mark_id: int,
    student_id: int,
    lesson: Lesson,
    work_type: WorkType,
    value: int | None,
    kind: str = "numeric",
    shown: str | None = None,
    comment: str | None = None,
) -> Mark:
    """Return a mark as a teacher gives it on a lesson; weighty work names its topic."""
    weighty = work_type.weight >= 20
    return Mark(
        id=mark_id,
        student_id=student_id,
        lesson_id=lesson.id,
        date=lesson.date,
        subject=lesson.subject,
        teacher_id=lesson.teacher_id,
        work_type_id=work_type.id,
        work_type=work_type.name,
        weight=work_type.weight,
        value=value,
        shown=shown if shown is not None else str(value),
        kind=kind,
        topic=f"{work_type.name}: {lesson.theme}" if weighty else lesson.theme,
        comment=comment,
        description=f"Тема: {lesson.theme}. Урок {lesson.number}." if weighty else None,
    )
