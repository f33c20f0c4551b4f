"""Seeds a moto server with an organisation whose costs are easy to work out by hand, and
prints the ids it made as JSON. Every member account is seeded through STS AssumeRole, as
natcost will read it.

    python seed_org.py ENDPOINT_URL START HOURS

The caller (moto's default account 123456789012) creates the organisation and three accounts:
  payments  ap-northeast-2: one public NAT gateway, 0.1 GiB/h from sources and 0.9 GiB/h
            from destinations, every hour of the span
  search    us-east-1: one public NAT gateway, 0.2 + 1.8 GiB/h; and one in ap-northeast-2
            with no datapoints (idle)
  legacy    nothing (a test denies its role: "role missing")
"""
import json
import sys
from datetime import datetime, timedelta, timezone

import boto3

endpoint = sys.argv[1]
start = datetime.fromisoformat(sys.argv[2]).replace(tzinfo=timezone.utc)
hours = int(sys.argv[3])
GIB = 1 << 30
ROLE = "natcost-read"


def client(service, region, creds=None):
    creds = creds or {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    return boto3.client(service, region_name=region, endpoint_url=endpoint, **creds)


def assume(account):
    c = client("sts", "us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed"
    )["Credentials"]
    return {
        "aws_access_key_id": c["AccessKeyId"],
        "aws_secret_access_key": c["SecretAccessKey"],
        "aws_session_token": c["SessionToken"],
    }


def nat_in(creds, region, az, tag, per_hour):
    """A VPC with one subnet routed to one public NAT gateway; hourly bytes (src, dst) or None."""
    ec2 = client("ec2", region, creds)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(
        SubnetId=public,
        AllocationId=eip,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": tag}]}],
    )["NatGateway"]["NatGatewayId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    if per_hour:
        src, dst = per_hour
        metrics = {
            "BytesInFromSource": src,
            "BytesInFromDestination": dst,
            "BytesOutToDestination": src,
            "BytesOutToSource": dst,
            "ActiveConnectionCount": 10,
            "ConnectionAttemptCount": 100,
        }
        data = [
            {
                "MetricName": m,
                "Dimensions": [{"Name": "NatGatewayId", "Value": nat}],
                "Timestamp": start + timedelta(hours=h),
                "Value": v,
                "Unit": "Count" if "Count" in m else "Bytes",
            }
            for m, v in metrics.items()
            for h in range(hours)
        ]
        cw = client("cloudwatch", region, creds)
        for i in range(0, len(data), 1000):
            cw.put_metric_data(Namespace="AWS/NATGateway", MetricData=data[i : i + 1000])
    return nat


org = client("organizations", "us-east-1")
org.create_organization(FeatureSet="ALL")
ids = {}
for name in ["payments", "search", "legacy"]:
    status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
    ids[name] = status["AccountId"]

payments = assume(ids["payments"])
ids["nat_payments"] = nat_in(payments, "ap-northeast-2", "ap-northeast-2a", "pay-nat", (0.1 * GIB, 0.9 * GIB))
search = assume(ids["search"])
ids["nat_search"] = nat_in(search, "us-east-1", "us-east-1a", "search-nat", (0.2 * GIB, 1.8 * GIB))
ids["nat_search_idle"] = nat_in(search, "ap-northeast-2", "ap-northeast-2c", "search-idle", None)
print(json.dumps(ids))
