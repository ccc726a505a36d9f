"""Generate the demo world's school month from a seed and today's date."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from regional_mock import world_data as data
from regional_mock.records import Account
from regional_mock.records import Course
from regional_mock.records import Event
from regional_mock.records import Lesson
from regional_mock.records import School
from regional_mock.records import SchoolClass
from regional_mock.records import Student
from regional_mock.records import Teacher
from regional_mock.records import WorkType
from regional_mock.student_month import StudentMonth

FIRST_IDS = {
    "student": 583101,
    "teacher": 6620101,
    "class": 9101,
    "course": 9120301,
    "lesson": 311204501,
    "assignment": 371002101,
    "attachment": 55120901,
    "post": 7001,
    "account": 7712001,
}
# The gateway's calendar feed promises three weeks ahead; the world reaches past them.
DAYS_AHEAD = 21
DEPARTMENTS = {
    "Алгебра": "Математика",
    "Геометрия": "Математика",
    "Вероятность и статистика": "Математика",
    "Литература": "Русский язык",
    "Изобразительное искусство": "Музыка",
}


def monday(day: dt.date) -> dt.date:
    """Return the Monday of the week containing ``day``."""
    return day - dt.timedelta(days=day.weekday())


def subjects_for(grade: int) -> tuple[str, ...]:
    """Return the subjects a class of ``grade`` studies."""
    if grade <= 4:
        english = ("Иностранный язык (английский)",) if grade >= 2 else ()
        return data.PRIMARY + english
    return data.MIDDLE if grade <= 6 else data.UPPER


class Builder:
    """Collect the world's records; one instance builds one world."""

    def __init__(self, *, today: dt.date, seed: int) -> None:
        """Prepare empty collections and the seeded random source."""
        self.today = today
        self.seed = seed
        self.rng = random.Random(seed)
        self.first_day = monday(today - dt.timedelta(days=28))
        self.last_day = monday(today + dt.timedelta(days=DAYS_AHEAD)) + dt.timedelta(days=6)
        self._next = dict(FIRST_IDS)
        self.schools: list[School] = []
        self.classes: list[SchoolClass] = []
        self.students: list[Student] = []
        self.teachers: list[Teacher] = []
        self.courses: list[Course] = []
        self.accounts: list[Account] = []
        self.lessons: dict[int, list[Lesson]] = {}
        self.events: list[Event] = []
        self.month = StudentMonth(self)
        self.work_types = tuple(
            WorkType(id=i, name=n, abbr=a, order=o, weight=w, active=act)
            for i, n, a, o, w, act in data.WORK_TYPES
        )
        self._staff: dict[tuple[int, str], Teacher] = {}
        self._names: dict[int, list[str]] = {}

    def next_id(self, kind: str) -> int:
        """Return the next id of a kind of record."""
        self._next[kind] += 1
        return self._next[kind] - 1

    def work_type(self, type_id: int) -> WorkType:
        """Return the work type with an id."""
        return next(w for w in self.work_types if w.id == type_id)

    def build(self) -> dict[str, tuple[object, ...]]:
        """Generate everything and return the record collections by name."""
        self.add_schools()
        self.add_children()
        self.add_accounts()
        for school_class in self.classes:
            self.add_lessons(school_class)
            self.change_coming_week(school_class)
            self.month.add_homework(school_class, self.lessons[school_class.id])
            self.add_parent_meeting(school_class)
        for school in self.schools:
            self.add_school_event(school)
        for student in self.students:
            self.month.add_student(student, self.lessons[student.class_id])
        lessons = [lesson for cls in self.classes for lesson in self.lessons[cls.id]]
        return {
            "schools": tuple(self.schools),
            "classes": tuple(self.classes),
            "students": tuple(self.students),
            "teachers": tuple(self.teachers),
            "courses": tuple(self.courses),
            "accounts": tuple(self.accounts),
            "work_types": self.work_types,
            "lessons": tuple(lessons),
            "events": tuple(self.events),
            **self.month.collections(),
        }

    def add_schools(self) -> None:
        """Create the schools of every regional system."""
        for key, sid, name, short, region, code, system, city, inn, ogrn, city_id in data.SCHOOLS:
            self.schools.append(
                School(
                    id=sid,
                    key=key,
                    name=name,
                    short_name=short,
                    region=region,
                    region_code=code,
                    system=system,
                    city=city,
                    inn=inn,
                    ogrn=ogrn,
                    city_id=city_id,
                )
            )
            names = list(data.TEACHER_NAMES)
            self.rng.shuffle(names)
            self._names[sid] = names

    def teacher(self, school_id: int, department: str) -> Teacher:
        """Return the school's teacher of a department, hiring one when there is none."""
        key = (school_id, department)
        if key not in self._staff:
            name = self._names[school_id].pop()
            teacher = Teacher(id=self.next_id("teacher"), school_id=school_id, full_name=name)
            self.teachers.append(teacher)
            self._staff[key] = teacher
        return self._staff[key]

    def add_children(self) -> None:
        """Create the six children of the demo, each with a class of their own."""
        schools = {school.key: school for school in self.schools}
        for full_name, born, school_key, grade, letter in data.CHILDREN:
            school = schools[school_key]
            school_class = self.add_class(school, grade, letter)
            self.students.append(
                Student(
                    id=self.next_id("student"),
                    full_name=full_name,
                    birth_date=born,
                    school_id=school.id,
                    class_id=school_class.id,
                )
            )

    def add_class(self, school: School, grade: int, letter: str) -> SchoolClass:
        """Create a class with its courses; primary classes have one teacher for most."""
        class_id = self.next_id("class")
        subjects = subjects_for(grade)
        if grade <= 4:
            head = self.teacher(school.id, f"класс {grade}{letter}")
        else:
            head = self.teacher(school.id, DEPARTMENTS.get(s := self.rng.choice(subjects), s))
        for subject in subjects:
            if grade <= 4 and subject not in data.SPECIALIST_SUBJECTS:
                teacher = head
            else:
                teacher = self.teacher(school.id, DEPARTMENTS.get(subject, subject))
            self.courses.append(
                Course(
                    id=self.next_id("course"),
                    class_id=class_id,
                    subject=subject,
                    teacher_id=teacher.id,
                )
            )
        school_class = SchoolClass(
            id=class_id, school_id=school.id, grade=grade, letter=letter, teacher_id=head.id
        )
        self.classes.append(school_class)
        return school_class

    def add_accounts(self) -> None:
        """Create the school-issued logins of DEMO.md."""
        by_name = {student.full_name: student.id for student in self.students}
        for system, login, password, holder, children in data.ACCOUNTS:
            self.accounts.append(
                Account(
                    system=system,
                    login=login,
                    password=password,
                    student_ids=tuple(by_name[name] for name in children),
                    id=self.next_id("account"),
                    holder=holder,
                )
            )

    def timetable(self, school_class: SchoolClass) -> dict[int, list[Course]]:
        """Draw the class's weekly timetable: weekday -> courses in period order."""
        courses = [c for c in self.courses if c.class_id == school_class.id]
        grade = school_class.grade
        days = 6 if grade >= 10 else 5
        table: dict[int, list[Course]] = {}
        for weekday in range(days):
            if weekday == 5:
                count = 4
            elif grade <= 2:
                count = self.rng.randint(4, 5)
            else:
                count = self.rng.randint(5, 6) if grade <= 6 else self.rng.randint(6, 7)
            table[weekday] = self.rng.sample(courses, min(count, len(courses)))
        return table

    def add_lessons(self, school_class: SchoolClass) -> None:
        """Create every lesson of the class from the first to the last day of the world."""
        table = self.timetable(school_class)
        lessons: list[Lesson] = []
        day = self.first_day
        while day <= self.last_day:
            for number, course in enumerate(table.get(day.weekday(), []), start=1):
                starts, ends = data.BELLS[number]
                lessons.append(
                    Lesson(
                        id=self.next_id("lesson"),
                        class_id=school_class.id,
                        course_id=course.id,
                        date=day,
                        number=number,
                        starts_at=starts,
                        ends_at=ends,
                        subject=course.subject,
                        teacher_id=course.teacher_id,
                        room=data.ROOMS.get(course.subject),
                        theme=self.rng.choice(data.TOPICS),
                    )
                )
            day += dt.timedelta(days=1)
        self.lessons[school_class.id] = lessons

    def change_coming_week(self, school_class: SchoolClass) -> None:
        """Cancel one lesson and replace another in the seven days after today."""
        lessons = self.lessons[school_class.id]
        week_end = self.today + dt.timedelta(days=7)
        coming = [i for i, x in enumerate(lessons) if self.today < x.date <= week_end]
        cancelled, replaced = self.rng.sample(coming, 2)
        lessons[cancelled] = dataclasses.replace(
            lessons[cancelled], status="cancelled", note="Урок отменён"
        )
        lesson = lessons[replaced]
        others = [
            c for c in self.courses if c.class_id == school_class.id and c.subject != lesson.subject
        ]
        course = self.rng.choice(others)
        teacher_id = course.teacher_id
        if teacher_id == lesson.teacher_id:
            staff = [t.id for t in self.teachers if t.school_id == school_class.school_id]
            teacher_id = self.rng.choice([t for t in staff if t != lesson.teacher_id])
        lessons[replaced] = dataclasses.replace(
            lesson,
            status="replaced",
            subject=course.subject,
            teacher_id=teacher_id,
            planned_subject=lesson.subject,
            planned_teacher_id=lesson.teacher_id,
            note=f"Замена: {course.subject} вместо «{lesson.subject}»",
        )

    def add_parent_meeting(self, school_class: SchoolClass) -> None:
        """Announce an upcoming parent meeting of the class, with an agenda."""
        soon = self.today + dt.timedelta(days=3)
        days = sorted({x.date for x in self.lessons[school_class.id] if x.date >= soon})
        day = days[0] if days else self.today + dt.timedelta(days=3)
        agenda = list(data.AGENDA[:3])
        if school_class.grade >= 9:
            agenda.insert(1, "Выбор профиля и подготовка к экзаменам")
        self.events.append(
            Event(
                id=self.next_id("post"),
                school_id=school_class.school_id,
                class_id=school_class.id,
                kind="parent_meeting",
                title=f"Родительское собрание {school_class.name} класса",
                starts_at=dt.datetime.combine(day, dt.time(18, 0)),
                place=f"каб. {self.rng.randint(201, 320)}",
                agenda=tuple(agenda) + data.AGENDA[3:],
                posted_at=dt.datetime.combine(
                    self.today - dt.timedelta(days=2), dt.time(10, 15, 23, 400000)
                ),
                author_id=school_class.teacher_id,
            )
        )

    def add_school_event(self, school: School) -> None:
        """Announce a school-wide event (no agenda) for schools that have classes."""
        heads = [c.teacher_id for c in self.classes if c.school_id == school.id]
        if not heads:
            return
        day = self.today + dt.timedelta(days=5)
        self.events.append(
            Event(
                id=self.next_id("post"),
                school_id=school.id,
                class_id=None,
                kind="school_event",
                title="День открытых дверей",
                starts_at=dt.datetime.combine(day, dt.time(11, 0)),
                place="актовый зал",
                agenda=(),
                posted_at=dt.datetime.combine(
                    self.today - dt.timedelta(days=6), dt.time(9, 2, 11, 813000)
                ),
                author_id=heads[0],
            )
        )
