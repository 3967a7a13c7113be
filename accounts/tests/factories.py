"""Deterministic factories for users, companies, memberships and accounts."""

import factory

from accounts.models import Account, Company, Membership, User
from sofinance.permissions import Role

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    currency = "USD"
    fiscal_year_start = 1


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)
    role = Role.ADMIN


class AccountFactory(factory.django.DjangoModelFactory):
    """Builds a root account directly (tests of services create accounts through services)."""

    class Meta:
        model = Account

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"{1000 + n}")
    name = factory.LazyAttribute(lambda o: f"Account {o.code}")
    type = "asset"
    path = factory.LazyAttribute(lambda o: o.code)
