"""The design's 43 monitoring items (six panels: widgets, alerts, delivery) and what implements each one.

A test checks that every widget title is on the generated dashboard and every resource in the template.
"""

from __future__ import annotations

ALARM_WIDGET_TITLE = "6. Alerts & Notifications: every alarm of the stack"

# The design's 43 items: (panel, item, kind, what implements it: a widget title or a logical resource id).
ITEMS: tuple[tuple[str, str, str, str], ...] = (
    ("Overview", "DAG success rate (24 h, %)", "widget", "Overview: DAG success rate, last 24 h (%)"),
    ("Overview", "Batch jobs by status (pie)", "widget", "Overview: Batch jobs by status, last 24 h"),
    ("Overview", "Fargate task health (%)", "widget", "Overview: Fargate task health (%)"),
    ("Overview", "Kafka cluster health", "widget", "Overview: Kafka cluster health"),
    ("Airflow DAGs", "run timeline", "widget", "Airflow: DAG runs succeeded / failed"),
    (
        "Airflow DAGs",
        "average task duration per DAG",
        "widget",
        "Airflow (MWAA): average task duration per DAG (ms)",
    ),
    ("Airflow DAGs", "retries per DAG and task", "widget", "Airflow: retries per DAG and task"),
    ("Airflow DAGs", "SLA misses (count)", "widget", "Airflow: SLA misses per DAG and task"),
    ("Airflow DAGs", "SLA misses (list)", "widget", "Airflow (MWAA): the SLA misses"),
    ("Airflow DAGs", "alert: DAG failure", "alarm", "DagFailedAlarm"),
    ("Airflow DAGs", "alert: SLA miss", "alarm", "SlaMissAlarm"),
    ("Airflow DAGs", "alert: task stuck (while running)", "alarm", "TaskStuckAlarm"),
    ("AWS Batch", "job queue length", "widget", "Batch: job queue length"),
    ("AWS Batch", "job status distribution", "widget", "Batch: job status distribution"),
    ("AWS Batch", "job duration trend", "widget", "Batch: average job duration (s)"),
    ("AWS Batch", "compute environment utilisation", "widget", "Batch: compute environment utilisation (%)"),
    ("AWS Batch", "alert: failed jobs", "alarm", "BatchJobFailedAlarm"),
    ("AWS Batch", "alert: jobs stuck in a state", "alarm", "BatchJobsStuckAlarm"),
    ("AWS Batch", "alert: under-utilised compute", "alarm", "BatchUnderUtilisedAlarm"),
    ("AWS Batch", "alert: over-utilised compute", "alarm", "BatchOverUtilisedAlarm"),
    (
        "AWS Fargate",
        "task status",
        "widget",
        "Fargate: tasks running / pending / desired / stopped with a failure",
    ),
    ("AWS Fargate", "CPU and memory per service", "widget", "Fargate: service CPU and memory (%)"),
    ("AWS Fargate", "CPU and memory per task", "widget", "Fargate: CPU (units) and memory (MiB) per task"),
    ("AWS Fargate", "network in / out per task", "widget", "Fargate: network in / out per task (bytes/s)"),
    ("AWS Fargate", "container logs (errors, warnings)", "widget", "Fargate: recent errors and warnings"),
    ("AWS Fargate", "alert: task failures", "alarm", "FargateTaskFailedAlarm"),
    ("AWS Fargate", "alert: high CPU", "alarm", "FargateCpuHighAlarm"),
    ("AWS Fargate", "alert: high memory", "alarm", "FargateMemoryHighAlarm"),
    ("AWS Fargate", "alert: unhealthy container", "alarm", "FargateUnhealthyAlarm"),
    ("Kafka / MSK", "broker health (CPU, memory, disk)", "widget", "MSK: broker CPU user (%)"),
    ("Kafka / MSK", "topic throughput", "widget", "MSK: topic throughput (messages/s, bytes/s)"),
    ("Kafka / MSK", "consumer lag per group", "widget", "MSK: consumer lag of the FoodNow job's group"),
    ("Kafka / MSK", "partition status", "widget", "MSK: partition status"),
    ("Kafka / MSK", "alert: broker down", "alarm", "MskBrokerDownAlarm"),
    ("Kafka / MSK", "alert: consumer lag", "alarm", "MskConsumerLagAlarm"),
    ("Kafka / MSK", "alert: disk use", "alarm", "MskDiskAlarm"),
    ("Kafka / MSK", "alert: under-replicated partitions", "alarm", "MskUnderReplicatedAlarm"),
    ("Alerts & Notifications", "one alarm-status widget", "widget", ALARM_WIDGET_TITLE),
    ("Alerts & Notifications", "e-mail delivery", "resource", "AlertsEmailSubscription"),
    ("Alerts & Notifications", "Slack delivery (AWS Chatbot)", "resource", "SlackChannel"),
    ("Alerts & Notifications", "Glue failure events", "resource", "GlueJobFailedRule"),
    ("Alerts & Notifications", "Batch failure events", "resource", "BatchJobFailedRule"),
    ("Alerts & Notifications", "ECS task stopped events", "resource", "EcsTaskStoppedRule"),
)
