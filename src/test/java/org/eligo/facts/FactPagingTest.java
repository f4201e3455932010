package org.eligo.facts;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.birthdate;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;

/**
 * A beneficiary's facts a page at a time (issue 20): {@code limit} and {@code cursor}, with
 * {@code next_cursor} beside {@code facts}; the pages, joined, are the one-page answer, as of the
 * first page's instant even when facts arrive between pages.
 */
@QuarkusTest
class FactPagingTest {

    @Test
    void pagesJoinedAreTheWholeListingAsOfTheFirstPagesInstant() {
        String source = unique("paging");
        String beneficiary = unique("P");
        awaitProcessed(submit(birthdate(source, "b", beneficiary, "1990-01-01")));
        for (int month = 1; month <= 4; month++) {
            awaitProcessed(submit(income(source, "i-" + month, beneficiary, 2027, month, 10_000 * month, 20)));
        }
        // A correction: the first month's fact is revoked, so include_revoked shows six.
        awaitProcessed(submit(income(source, "i-1b", beneficiary, 2027, 1, 99_000, 20)));

        JsonPath whole = given().queryParam("include_revoked", true).get("/v1/beneficiaries/" + beneficiary + "/facts").then().statusCode(200)
                .extract().jsonPath();
        assertNull(whole.get("next_cursor"), "the default page holds a short record whole");
        List<String> all = whole.getList("facts.id");
        assertEquals(6, all.size());

        List<String> paged = new ArrayList<>();
        String cursor = null;
        String asOf = null;
        int pages = 0;
        do {
            var request = given().queryParam("include_revoked", true).queryParam("limit", 4);
            if (cursor != null) {
                request.queryParam("cursor", cursor);
            }
            JsonPath page = request.get("/v1/beneficiaries/" + beneficiary + "/facts").then().statusCode(200).extract().jsonPath();
            paged.addAll(page.getList("facts.id"));
            asOf = asOf == null ? page.getString("as_of") : asOf;
            assertEquals(asOf, page.getString("as_of"), "every page is as of the first page's instant");
            cursor = page.get("next_cursor");
            if (pages++ == 0) {
                assertNotNull(cursor);
                // A fact arriving between pages is not in this listing (it is after its instant).
                awaitProcessed(submit(income(source, "i-5", beneficiary, 2027, 5, 50_000, 20)));
            }
        } while (cursor != null);
        assertEquals(2, pages);
        assertEquals(all, paged, "the pages, joined, are the listing in its order");
    }

    @Test
    void aBadLimitOrCursorIsA400NamingIt() {
        String beneficiary = unique("P");
        given().queryParam("limit", 0).get("/v1/beneficiaries/" + beneficiary + "/facts").then().statusCode(400)
                .body("errors[0].parameter", org.hamcrest.Matchers.equalTo("limit"));
        given().queryParam("cursor", "bm90IGEgY3Vyc29y").get("/v1/beneficiaries/" + beneficiary + "/facts").then().statusCode(400)
                .body("errors[0].parameter", org.hamcrest.Matchers.equalTo("cursor"));
        String cursor = java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString("2027-01-01T00:00:00Z\nincome.monthly\n2027-01\nfact_0".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        given().queryParam("cursor", cursor).queryParam("as_of", "2026-01-01T00:00:00Z").get("/v1/beneficiaries/" + beneficiary + "/facts")
                .then().statusCode(400).body("errors[0].message", containsString("belongs to a listing as of"));
    }
}
