"""Seeds a moto server with the account the bill tests reconcile, and prints its ids as JSON.

    python seed_bill.py ENDPOINT_URL START HOURS

Seoul (ap-northeast-2), one VPC, one AZ:
  nat-live  public, with an Elastic IP; app-a routes to it; 0.25 GiB/h from sources and
            0.75 GiB/h from destinations (1 GiB/h processed), every hour from START for HOURS
  DELETED   a NAT gateway EC2 no longer lists (deleted before collection): CloudWatch has its
            metrics for hours 100 to 299 only, 0.1 + 0.4 GiB/h. Found through ListMetrics.
Oregon (us-west-2): no NAT gateway EC2 lists, only the metrics of DELETED_WEST, from 26 to 2
hours before the span's end (0.1 + 0.1 GiB/h): a region that must still be read whole.
"""
import json
import sys
from datetime import datetime, timedelta, timezone

import boto3

GIB = 1 << 30
DELETED = "nat-0de1e7ed00000000a"
DELETED_WEST = "nat-0de1e7ed00000000b"
endpoint = sys.argv[1]
start = datetime.fromisoformat(sys.argv[2]).replace(tzinfo=timezone.utc)
hours = int(sys.argv[3])
r = "ap-northeast-2"


def client(service, region=r):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def put(cw, nat, first, last, from_src, from_dst):
    metrics = {
        "BytesInFromSource": from_src,
        "BytesInFromDestination": from_dst,
        "BytesOutToDestination": from_src,
        "BytesOutToSource": from_dst,
        "ActiveConnectionCount": 10,
        "ConnectionAttemptCount": 100,
    }
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": "NatGatewayId", "Value": nat}],
            "Timestamp": start + timedelta(hours=h),
            "Value": value,
            "Unit": "Count" if "Count" in metric else "Bytes",
        }
        for metric, value in metrics.items()
        for h in range(first, last)
    ]
    for i in range(0, len(data), 1000):
        cw.put_metric_data(Namespace="AWS/NATGateway", MetricData=data[i : i + 1000])


ec2, cw = client("ec2"), client("cloudwatch")
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
pub = ec2.create_subnet(VpcId=vpc, AvailabilityZone="ap-northeast-2a", CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
app = ec2.create_subnet(VpcId=vpc, AvailabilityZone="ap-northeast-2a", CidrBlock="10.0.16.0/20")["Subnet"]["SubnetId"]
igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
nat = ec2.create_nat_gateway(
    SubnetId=pub,
    AllocationId=allocation,
    TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": "nat-live"}]}],
)["NatGateway"]["NatGatewayId"]
rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
ec2.associate_route_table(RouteTableId=rtb, SubnetId=app)
ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
put(cw, nat, 0, hours, 0.25 * GIB, 0.75 * GIB)
put(cw, DELETED, 100, 300, 0.1 * GIB, 0.4 * GIB)
put(client("cloudwatch", "us-west-2"), DELETED_WEST, hours - 26, hours - 2, 0.1 * GIB, 0.1 * GIB)
print(json.dumps({"nat_live": nat, "nat_deleted": DELETED, "nat_deleted_west": DELETED_WEST}))
