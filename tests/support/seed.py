"""Seeds a moto server with a small two-region account whose costs are easy to work out by
hand, and prints the ids it made as JSON.

    python seed.py ENDPOINT_URL START HOURS [EAST_NATS]

START (ISO 8601, UTC, on the hour) and HOURS give the metric datapoints' span; a test seeds a
span wider than the window it collects, so the window may start at any hour inside it.

Seoul (ap-northeast-2), VPC "app" 10.0.0.0/16:
  nat-a   public, in 2a; app-a (2a) and app-c (2c) route to it; 0.1 GiB/h from sources,
          0.9 GiB/h from destinations (and back), every hour of the span
  nat-c   public, in 2c; no route points at it; no datapoints (idle)
  nat-p   private connectivity, in 2a; private-a routes to it; 0.05 + 0.45 GiB/h
  S3 gateway endpoint on app-a's route table; an SQS interface endpoint in pub-a
  fn-a in app-a (1,500 ms of Duration an hour; Lambda Insights: 0.05 GiB an hour in and out);
  tagged team=payments; fn-ac in app-a and app-c; fn-out outside any VPC; an internal ALB
  "web-alb" tagged team=web, whose interface is in private-a
  VPC "empty" with nothing in it
us-east-1, VPC "east": EAST_NATS (default 36) public NAT gateways in one subnet, so that the
  GetMetricData queries (14 per NAT) need two calls; east-app routes to the first; it moves
  0.2 + 1.8 GiB/h; fn-east in east-app; east-1 has 120 zero-byte datapoints in one hour.
"""
import io
import json
import sys
import zipfile
from datetime import datetime, timedelta, timezone

import boto3

GIB = 1 << 30
endpoint = sys.argv[1]
start = datetime.fromisoformat(sys.argv[2]).replace(tzinfo=timezone.utc)
hours = int(sys.argv[3])
east_nats = int(sys.argv[4]) if len(sys.argv) > 4 else 36


def client(service, region):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def name(tag):
    return [{"Key": "Name", "Value": tag}]


def tagged(kind, tag):
    return [{"ResourceType": kind, "Tags": name(tag)}]


def put_hourly(cw, nat, metrics):
    """metrics: {name: value per hour}, for every hour of the span."""
    data = []
    for metric, value in metrics.items():
        for h in range(hours):
            data.append(
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "NatGatewayId", "Value": nat}],
                    "Timestamp": start + timedelta(hours=h),
                    "Value": value,
                    "Unit": "Count" if "Count" in metric else "Bytes",
                }
            )
    for i in range(0, len(data), 1000):
        cw.put_metric_data(Namespace="AWS/NATGateway", MetricData=data[i : i + 1000])


def traffic(from_src, from_dst):
    return {
        "BytesInFromSource": from_src,
        "BytesInFromDestination": from_dst,
        "BytesOutToDestination": from_src,
        "BytesOutToSource": from_dst,
        "ActiveConnectionCount": 10,
        "ConnectionAttemptCount": 100,
    }


def role():
    iam = client("iam", "us-east-1")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    return iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(policy))["Role"]["Arn"]


def code():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return {"ZipFile": buf.getvalue()}


def function(lam, arn, fn, subnets, tags=None):
    args = dict(FunctionName=fn, Runtime="python3.12", Role=arn, Handler="index.handler", Code=code(), MemorySize=256)
    if tags:
        args["Tags"] = tags
    if subnets:
        args["VpcConfig"] = {"SubnetIds": subnets, "SecurityGroupIds": []}
    lam.create_function(**args)


def nat(ec2, subnet, tag, private=False):
    args = dict(SubnetId=subnet, TagSpecifications=tagged("natgateway", tag))
    if private:
        args["ConnectivityType"] = "private"
    else:
        args["AllocationId"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
    return ec2.create_nat_gateway(**args)["NatGateway"]["NatGatewayId"]


def route_table(ec2, vpc, tag, subnets, **target):
    rtb = ec2.create_route_table(VpcId=vpc, TagSpecifications=tagged("route-table", tag))["RouteTable"]["RouteTableId"]
    for s in subnets:
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=s)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", **target)
    return rtb


ids = {}
arn = role()

# Seoul
r = "ap-northeast-2"
ec2, cw, lam = client("ec2", r), client("cloudwatch", r), client("lambda", r)
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tagged("vpc", "app"))["Vpc"]["VpcId"]
ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=tagged("vpc", "empty"))


def subnet(tag, az, cidr, vpc_id=vpc, e=ec2):
    return e.create_subnet(VpcId=vpc_id, AvailabilityZone=az, CidrBlock=cidr, TagSpecifications=tagged("subnet", tag))["Subnet"]["SubnetId"]


pub_a = subnet("pub-a", "ap-northeast-2a", "10.0.0.0/24")
pub_c = subnet("pub-c", "ap-northeast-2c", "10.0.1.0/24")
app_a = subnet("app-a", "ap-northeast-2a", "10.0.16.0/20")
app_c = subnet("app-c", "ap-northeast-2c", "10.0.32.0/20")
private_a = subnet("private-a", "ap-northeast-2a", "10.0.48.0/20")
igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
route_table(ec2, vpc, "public", [pub_a, pub_c], GatewayId=igw)
ids["nat_a"] = nat(ec2, pub_a, "nat-a")
ids["nat_c"] = nat(ec2, pub_c, "nat-c")
ids["nat_p"] = nat(ec2, private_a, "nat-p", private=True)
rtb_a = route_table(ec2, vpc, "app-a", [app_a], NatGatewayId=ids["nat_a"])
route_table(ec2, vpc, "app-c", [app_c], NatGatewayId=ids["nat_a"])
route_table(ec2, vpc, "private-a", [private_a], NatGatewayId=ids["nat_p"])
ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{r}.s3", VpcEndpointType="Gateway", RouteTableIds=[rtb_a])
ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{r}.sqs", VpcEndpointType="Interface", SubnetIds=[pub_a])
function(lam, arn, "fn-a", [app_a], tags={"team": "payments"})
function(lam, arn, "fn-ac", [app_a, app_c])
function(lam, arn, "fn-out", [])
put_hourly(cw, ids["nat_a"], traffic(0.1 * GIB, 0.9 * GIB))
# fn-a ran 1,500 ms of Duration an hour (what a shared ENI's bytes are split by).
cw.put_metric_data(
    Namespace="AWS/Lambda",
    MetricData=[
        {
            "MetricName": "Duration",
            "Dimensions": [{"Name": "FunctionName", "Value": "fn-a"}],
            "Timestamp": start + timedelta(hours=h),
            "Value": 1500,
            "Unit": "Milliseconds",
        }
        for h in range(hours)
    ],
)
# Lambda Insights is on for fn-a: 0.03 GiB received and 0.02 GiB sent an hour.
cw.put_metric_data(
    Namespace="LambdaInsights",
    MetricData=[
        {
            "MetricName": metric,
            "Dimensions": [{"Name": "function_name", "Value": "fn-a"}],
            "Timestamp": start + timedelta(hours=h),
            "Value": gib * GIB,
            "Unit": "Bytes",
        }
        for metric, gib in (("rx_bytes", 0.03), ("tx_bytes", 0.02))
        for h in range(hours)
    ],
)
put_hourly(cw, ids["nat_p"], traffic(0.05 * GIB, 0.45 * GIB))
# An internal ALB tagged team=web with an interface in private-a (AWS names it "ELB app/NAME/ID";
# moto makes none, so it is made by hand): its team is the ALB's, read with tag:GetResources.
alb = client("elbv2", r).create_load_balancer(
    Name="web-alb", Subnets=[pub_a, pub_c], Scheme="internal", Tags=[{"Key": "team", "Value": "web"}]
)["LoadBalancers"][0]["LoadBalancerArn"]
ec2.create_network_interface(
    SubnetId=private_a, Description="ELB " + alb.split(":loadbalancer/", 1)[1]
)
# An ECS Fargate task of the orders team in private-a (awsvpc: moto makes its interface and names
# it in the task's attachment, as ECS does): its team is the task's, read with ecs:DescribeTasks.
ecs = client("ecs", r)
ecs.create_cluster(clusterName="prod")
ecs.register_task_definition(
    family="orders",
    networkMode="awsvpc",
    requiresCompatibilities=["FARGATE"],
    cpu="256",
    memory="512",
    containerDefinitions=[{"name": "app", "image": "public.ecr.aws/nginx/nginx:latest", "memory": 512}],
)
# moto names the task's interface by its DNS name, which it gives only with DNS hostnames on.
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
task_sg = ec2.create_security_group(GroupName="orders-task", Description="orders", VpcId=vpc)["GroupId"]
ecs.run_task(
    cluster="prod",
    taskDefinition="orders",
    launchType="FARGATE",
    networkConfiguration={"awsvpcConfiguration": {"subnets": [private_a], "securityGroups": [task_sg]}},
    tags=[{"key": "team", "value": "orders"}],
)
# An Elastic IP associated with nothing (as a deleted NAT gateway leaves its address).
ids["idle_eip"] = ec2.allocate_address(Domain="vpc", TagSpecifications=tagged("elastic-ip", "left-behind"))["AllocationId"]
ids.update(vpc_app=vpc, app_a=app_a, app_c=app_c)

# us-east-1
r = "us-east-1"
ec2, cw, lam = client("ec2", r), client("cloudwatch", r), client("lambda", r)
vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16", TagSpecifications=tagged("vpc", "east"))["Vpc"]["VpcId"]
pub = subnet("east-pub", "us-east-1a", "10.2.0.0/24", vpc, ec2)
app = subnet("east-app", "us-east-1a", "10.2.16.0/20", vpc, ec2)
ids["east_nats"] = [nat(ec2, pub, f"east-{i}") for i in range(east_nats)]
route_table(ec2, vpc, "east-app", [app], NatGatewayId=ids["east_nats"][0])
function(lam, arn, "fn-east", [app])
put_hourly(cw, ids["east_nats"][0], traffic(0.2 * GIB, 1.8 * GIB))
# east-1: 120 zero-byte datapoints in one hour a day before the span's end (one every 30 s):
# SampleCount 120 > 60, so natcost reads 1-minute Sums for it; zero bytes change no cost.
dense = start + timedelta(hours=hours - 26)
cw.put_metric_data(
    Namespace="AWS/NATGateway",
    MetricData=[
        {
            "MetricName": metric,
            "Dimensions": [{"Name": "NatGatewayId", "Value": ids["east_nats"][1]}],
            "Timestamp": dense + timedelta(seconds=30 * i),
            "Value": 0,
            "Unit": "Bytes",
        }
        for metric in ("BytesInFromSource", "BytesInFromDestination")
        for i in range(120)
    ],
)
ids["vpc_east"] = vpc

print(json.dumps(ids))
