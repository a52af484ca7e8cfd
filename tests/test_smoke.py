import rewards


def test_public_api_is_importable():
    assert callable(rewards.get) and callable(rewards.verify)
