package org.eligo.facts;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The fact types the service accepts, as the contract's "Message types" table lists them. */
public final class FactTypes {

    /** A month's income: key (beneficiary, year, month). */
    public static final FactType INCOME_MONTHLY = new FactType("income.monthly", "fact_income_monthly", List.of(
            Field.keyInteger("year", 1900, 2200),
            Field.keyInteger("month", 1, 12),
            Field.bigint("amount_cents", true, 0, 1_000_000_000_000L),
            Field.decimal("hours", false, 0, 744),
            Field.integer("employers", false, 0, Integer.MAX_VALUE)));

    /** Date of birth: one per beneficiary. */
    public static final FactType PERSON_BIRTHDATE = new FactType("person.birthdate", "fact_person_birthdate", List.of(
            Field.pastDate("birth_date")));

    /** Disability and medical frailty: one per beneficiary. */
    public static final FactType DISABILITY_STATUS = new FactType("disability.status", "fact_disability_status", List.of(
            Field.bool("disabled", true, null),
            Field.bool("medically_frail", false, Boolean.FALSE)));

    public static final List<FactType> ALL = List.of(INCOME_MONTHLY, PERSON_BIRTHDATE, DISABILITY_STATUS);

    private static final Map<String, FactType> BY_NAME =
            ALL.stream().collect(Collectors.toUnmodifiableMap(FactType::name, Function.identity()));

    private FactTypes() {
    }

    public static Optional<FactType> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    public static String names() {
        return ALL.stream().map(FactType::name).collect(Collectors.joining(", "));
    }
}
