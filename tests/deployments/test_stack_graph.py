from deployments.graph_svg import Node, render

from .editor_fixtures import FILES, shop

URL = "/t/acme/stacks/shop/graph/"

TOPIC = """\
apiVersion: components.panka.io/v1
kind: SNS
metadata:
  name: alerts
spec:
  dependsOn: [orders]
"""


def test_the_graph_shows_every_component_in_its_service_lane_with_edges(client, personas):
    shop(personas, files={**FILES, "services/ops/topic.yaml": TOPIC})
    client.force_login(personas.viewer)
    page = client.get(URL).content.decode()
    assert "<svg" in page and ">api</text>" in page and ">ops</text>" in page
    assert "alerts depends on orders" in page
    assert "Deploy order: orders, alerts" in page


def test_a_cycle_is_named_on_the_page(client, personas):
    looped = FILES["services/api/queue.yaml"] + "  dependsOn: [alerts]\n"
    shop(
        personas,
        files={**FILES, "services/api/queue.yaml": looped, "services/ops/topic.yaml": TOPIC},
    )
    client.force_login(personas.viewer)
    page = client.get(URL).content.decode()
    assert "Dependency cycle:" in page and "alerts" in page and "orders" in page


def test_names_are_escaped_in_the_svg():
    svg = render([Node("<script>", "SQS", "a&b", 0)], [])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg


def test_outsider_gets_404_and_post_405(client, personas):
    shop(personas)
    client.force_login(personas.outsider)
    assert client.get(URL).status_code == 404
    client.force_login(personas.viewer)
    assert client.post(URL).status_code == 405
