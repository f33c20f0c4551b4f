"""Adds 100 Fargate tasks of the orders family to seed.py's "prod" cluster in private-a, so
that the cluster holds 101: more than one DescribeTasks call (100 tasks at most) can describe.

    python seed_ecs_tasks.py ENDPOINT_URL START HOURS
"""
import sys

import boto3

endpoint = sys.argv[1]
r = "ap-northeast-2"


def client(service):
    return boto3.client(
        service,
        region_name=r,
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


ec2, ecs = client("ec2"), client("ecs")
subnet = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": ["private-a"]}])["Subnets"][0]
sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["orders-task"]}])
for _ in range(10):
    ecs.run_task(
        cluster="prod",
        taskDefinition="orders",
        launchType="FARGATE",
        count=10,
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [subnet["SubnetId"]],
                "securityGroups": [sg["SecurityGroups"][0]["GroupId"]],
            }
        },
        tags=[{"key": "team", "value": "orders"}],
    )
print("{}")
