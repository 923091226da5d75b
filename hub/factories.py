"""Test data factories for the hub's models (tests only)."""

import factory
from django.contrib.auth.models import User

from lamplighter.devices.models import Device
from lamplighter.homes.models import Home, Membership, Room
from lamplighter.infra.secret_hashing import secret_hash
from lamplighter.lights.models import Light

DEFAULT_TEST_PASSWORD = "a-test-only-passphrase"  # noqa: S105 - test fixture, never used outside tests


class UserFactory(factory.django.DjangoModelFactory):
    """A user with a known password."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: object, **kwargs: object) -> None:  # noqa: N805
        """Persist the hashed password."""
        if create:
            obj.save()


class HomeFactory(factory.django.DjangoModelFactory):
    """A home; pass owner=<user> to create the owner's membership."""

    class Meta:
        model = Home
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Home {n}")

    @factory.post_generation
    def owner(obj: Home, create: bool, extracted: User | None, **kwargs: object) -> None:  # noqa: N805
        """Add the owner given as owner=..."""
        if create and extracted is not None:
            Membership.objects.create(home=obj, user=extracted, role=Membership.Role.OWNER)

    @factory.post_generation
    def member(obj: Home, create: bool, extracted: User | None, **kwargs: object) -> None:  # noqa: N805
        """Add the member given as member=..."""
        if create and extracted is not None:
            Membership.objects.create(home=obj, user=extracted, role=Membership.Role.MEMBER)


class RoomFactory(factory.django.DjangoModelFactory):
    """A room."""

    class Meta:
        model = Room

    home = factory.SubFactory(HomeFactory)
    name = factory.Sequence(lambda n: f"Room {n}")


class DeviceFactory(factory.django.DjangoModelFactory):
    """A device whose secret is `secret` (the factory stores only its hash)."""

    class Meta:
        model = Device
        exclude = ["secret"]

    home = factory.SubFactory(HomeFactory)
    name = factory.Sequence(lambda n: f"device-{n}")
    device_id = factory.Sequence(lambda n: f"dev-test{n:04d}")
    secret = factory.Sequence(lambda n: f"test-device-secret-{n}")
    secret_hash = factory.LazyAttribute(lambda o: secret_hash(o.secret))


class LightFactory(factory.django.DjangoModelFactory):
    """A light."""

    class Meta:
        model = Light

    room = factory.SubFactory(RoomFactory)
    name = factory.Sequence(lambda n: f"Light {n}")
