"""A TaskFlow ETL: extract → transform → load, data passed between tasks as XComs."""

from __future__ import annotations

import json
from datetime import datetime

from dagruns.sdk import dag, task


@dag(
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example", "taskflow"],
    doc_md="""
### TaskFlow ETL
Extracts a small order book, sums it and "loads" the total. Each task's return value is its
`return_value` XCom; passing it to the next task draws the edge.
""",
)
def example_taskflow_etl():
    @task
    def extract() -> dict:
        return json.loads('{"1001": 301.27, "1002": 433.21, "1003": 502.22}')

    @task(multiple_outputs=True)
    def transform(order_data: dict) -> dict:
        return {"total_order_value": round(sum(order_data.values()), 2)}

    @task
    def load(total_order_value: float) -> None:
        print(f"Total order value is: {total_order_value:.2f}")

    order_summary = transform(extract())
    load(order_summary["total_order_value"])


example_taskflow_etl()
