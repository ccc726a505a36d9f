"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gateway.models import Base


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_the_migrated_database_has_every_table_and_column_the_models_declare(
    database_url: str,
) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    # alembic's own bookkeeping table is not a model.
    differences = [
        d for d in differences if not (d[0] == "remove_table" and d[1].name == "alembic_version")
    ]
    assert differences == []
