"""The words of the ``Decision`` cell: ``<outcome>:<code>``, each spelled once here.

The codes are part of the outside contract (a team filters the sheet on them,
a bot reads them from the eligibility answer), so they are an enum: a typo in a
rule is a type error, not a new code nobody has words for.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Code", "Outcome"]


class Outcome(StrEnum):
    """The first half of the ``Decision`` cell."""

    ELIGIBLE = "eligible"  # policy allows it; the team can go ahead
    REVIEW = "review"  # a person must decide
    INELIGIBLE = "ineligible"  # policy forbids it; the shopper is told the next step
    WAIT = "wait"  # too early to decide; the request stays Pending and is checked again


class Code(StrEnum):
    """The second half of the ``Decision`` cell: why."""

    # eligible
    NOT_YET_SHIPPED = "notYetShipped"  # cancel or change the address: still processing
    WITHIN_RETURN_WINDOW = "withinReturnWindow"  # every item inside its window
    WITHIN_14_DAYS = "within14Days"  # full refund
    VIP_FULL_REFUND = "vipFullRefund"  # partial-refund window, but a VIP gets it all
    FIRST_ORDER_FULL_REFUND = "firstOrderFullRefund"  # partial-refund window, first order
    RETENTION_OFFER = "retentionOffer"  # a partial refund the shopper took instead of cancelling
    VIP_NO_QUESTIONS = "vipNoQuestions"  # a VIP refund, no window asked (policy switch)
    UNSUBSCRIBE = "unsubscribe"  # always allowed
    # review
    WITHIN_60_DAYS = "within60Days"  # partial refund or store credit: a person decides
    GRACE_WINDOW = "graceWindow"  # a few days past a window
    LATE_RETURN_REVIEW = "lateReturnReview"  # past the window, within the exception limit
    INVESTIGATION = "investigation"  # delivered but not received, past the carrier's grace
    DAMAGED_ITEM = "damagedItem"  # replacement or refund, whatever the window
    ORDER_NOT_FOUND = "orderNotFound"  # no such order in the order data
    EMAIL_MISMATCH = "emailMismatch"  # the order belongs to another address
    SKU_NOT_IN_ORDER = "skuNotInOrder"  # the item named is not on the order
    MISSING_DELIVERY_DATE = "missingDeliveryDate"  # delivered, but no date to count from
    UNREADABLE_TIMESTAMP = "unreadableTimestamp"  # the Timestamp cell is not a time
    UNREADABLE_ORDER_DATE = "unreadableOrderDate"  # an order date the sheet's locale cannot settle
    UNKNOWN_TYPE = "unknownType"  # the Type cell is not a request type
    SUPPORT_HANDOFF = "supportHandoff"  # the shopper asked for a person
    # wait
    CARRIER_GRACE = "carrierGrace"  # marked delivered under 48 hours ago: it may still turn up
    # ineligible
    ALREADY_SHIPPED = "alreadyShipped"  # too late to cancel or change the address
    ALREADY_CANCELLED = "alreadyCancelled"  # nothing left to do
    ALREADY_REFUNDED = "alreadyRefunded"  # never refund twice
    NOT_DELIVERED = "notDelivered"  # a return or refund before the parcel arrived
    OUTSIDE_WINDOW = "outsideWindow"  # past the window and its grace days
    FINAL_SALE = "finalSale"  # sold as final sale
    NON_RETURNABLE = "nonReturnable"  # a category never taken back
    # one item's check only, never a whole decision
    REFUNDABLE = "refundable"  # the item may be refunded; the days decide
