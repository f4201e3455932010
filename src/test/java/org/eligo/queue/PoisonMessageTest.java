package org.eligo.queue;

import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.awaitStatus;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import org.eligo.testing.Sql;
import org.eligo.testing.TestLedger;
import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;

/** A message that cannot become a fact is retried, then FAILED with its error, and holds up nothing. */
@QuarkusTest
class PoisonMessageTest {

    @Test
    void aPoisonMessageEndsFailedWithItsErrorWhileOthersAreProcessed() {
        String source = unique("poison");
        String beneficiary = unique("B");
        // Stored data the parser rejects: only possible behind the API's back (or after a parser change).
        String poison = "msg_" + UlidCreator.getMonotonicUlid();
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES (?, ?, 'p', 'income.monthly', ?, ?::jsonb)",
                poison, source, beneficiary, "{\"year\": 2027, \"month\": \"April\", \"amount_cents\": 1}");
        TestLedger.adoptMessages(poison);
        String healthy = submit(income(source, "ok", beneficiary, 2027, 4, 1, null));

        awaitProcessed(healthy).then().body("fact_ids", hasSize(1));
        awaitStatus(poison, "FAILED").then()
                .body("attempts", equalTo(3))
                .body("last_error", containsString("/data/month"))
                .body("fact_ids", empty());
    }
}
