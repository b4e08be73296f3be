"""Named and inline fragments (nested), and aliases, including one field under several aliases."""

from __future__ import annotations

from tests.gateway.conftest import post


async def test_named_fragments_nested_across_subgraphs(shop):
    result = await post(
        shop,
        """
        query { product(upc: "1") { ...ProductCard } }
        fragment ProductCard on Product { upc ...Stock reviews { ...ReviewLine } }
        fragment Stock on Product { inStock shippingEstimate }
        fragment ReviewLine on Review { body author { ...Who } }
        fragment Who on User { email }
        """,
    )
    assert result == {
        "data": {
            "product": {
                "upc": "1",
                "inStock": True,
                "shippingEstimate": 50,
                "reviews": [
                    {"body": "Love it!", "author": {"email": "ada@example.com"}},
                    {"body": "Too expensive.", "author": {"email": "alan@example.com"}},
                ],
            }
        }
    }


async def test_inline_fragments_with_and_without_type_condition(shop):
    result = await post(
        shop,
        '{ product(upc: "2") { ... on Product { name ... { inStock } } ... { price } } }',
    )
    assert result == {"data": {"product": {"name": "Couch", "inStock": False, "price": 1299}}}


async def test_overlapping_fragments_merge_fields(shop):
    result = await post(
        shop,
        """
        { product(upc: "1") { reviews { id } ...A ...B } }
        fragment A on Product { reviews { body } dimensions { size } }
        fragment B on Product { reviews { id rating } dimensions { volume } }
        """,
    )
    assert result == {
        "data": {
            "product": {
                "reviews": [
                    {"id": "r1", "body": "Love it!", "rating": 5},
                    {"id": "r2", "body": "Too expensive.", "rating": 2},
                ],
                "dimensions": {"size": "large", "volume": 2.5},
            }
        }
    }


async def test_same_root_field_with_different_arguments_under_aliases(shop):
    result = await post(shop, "{ one: topProducts(first: 1) { upc } two: topProducts(first: 2) { upc name } }")
    assert result == {
        "data": {"one": [{"upc": "1"}], "two": [{"upc": "1", "name": "Table"}, {"upc": "2", "name": "Couch"}]}
    }


async def test_same_entity_field_with_different_arguments_under_aliases(shop, shop_server):
    result = await post(
        shop,
        '{ topProducts(first: 2) { slow: deliveryEstimate(zip: "1") fast: deliveryEstimate(zip: "1", express: true) '
        'deliveryEstimate(zip: "2") } }',
    )
    assert result == {
        "data": {
            "topProducts": [
                {"slow": "1:3d", "fast": "1:1d", "deliveryEstimate": "2:3d"},
                {"slow": "1:12d", "fast": "1:1d", "deliveryEstimate": "2:12d"},
            ]
        }
    }
    assert len(shop_server.calls("inventory")) == 1


async def test_aliases_on_entities_and_keys(shop):
    result = await post(
        shop,
        '{ p: product(upc: "3") { id: upc label: name stock: inStock feedback: reviews { text: body by: author { mail: email } } } }',
    )
    assert result == {
        "data": {
            "p": {
                "id": "3",
                "label": "Chair",
                "stock": True,
                "feedback": [{"text": "Prefer something else.", "by": {"mail": "grace@example.com"}}],
            }
        }
    }


async def test_alias_shadowing_a_key_field_name(shop):
    # the client calls something else "upc": the gateway's own key must not clash with it
    result = await post(shop, '{ product(upc: "2") { upc: name sku: upc inStock } }')
    assert result == {"data": {"product": {"upc": "Couch", "sku": "2", "inStock": False}}}


async def test_client_alias_named_like_a_key_on_another_field(shop):
    # the reviews jump needs the key `id`; the client calls __typename `id`
    result = await post(shop, "{ users { reviews { id } } users { id: __typename } }")
    assert result == {
        "data": {
            "users": [
                {"reviews": [{"id": "r1"}, {"id": "r3"}], "id": "User"},
                {"reviews": [{"id": "r2"}], "id": "User"},
                {"reviews": [{"id": "r4"}], "id": "User"},
            ]
        }
    }


async def test_client_alias_named_like_a_key_after_the_key_was_fetched(shop):
    result = await post(shop, "{ topProducts(first: 2) { inStock } topProducts(first: 2) { sku: name } }")
    assert result == {"data": {"topProducts": [{"inStock": True, "sku": "Table"}, {"inStock": False, "sku": "Couch"}]}}


async def test_client_alias_named_like_a_nested_requires_field(shop):
    result = await post(shop, "{ topProducts(first: 2) { packaging dimensions { size: volume } } }")
    assert result == {
        "data": {
            "topProducts": [
                {"packaging": "large/2.5", "dimensions": {"size": 2.5}},
                {"packaging": "huge/8.0", "dimensions": {"size": 8.0}},
            ]
        }
    }


async def test_client_alias_spelled_like_a_reserved_alias(shop):
    result = await post(shop, "{ topProducts(first: 2) { sku: inStock _tr1_sku: name } }")
    assert result == {
        "data": {"topProducts": [{"sku": True, "_tr1_sku": "Table"}, {"sku": False, "_tr1_sku": "Couch"}]}
    }
