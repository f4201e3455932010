package org.eligo.operations;

import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.PathItem;

/**
 * Every {@code /v1} operation needs a bearer token ({@code org.eligo.auth.Gate}), and says
 * so in the OpenAPI document. Our {@code @Allowed} is not one of the annotations from which Quarkus
 * infers a security requirement, so without this the document declared a bearer scheme that no
 * operation required, and Swagger UI's "Try it out" sent no token after "Authorize".
 * Registered with {@code mp.openapi.filter}.
 */
public class SecuredOperations implements OASFilter {

    /** The scheme's name, as {@code quarkus.smallrye-openapi.security-scheme-name} declares it. */
    public static final String SCHEME = "bearer";

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        if (openAPI.getPaths() == null || openAPI.getPaths().getPathItems() == null) {
            return;
        }
        openAPI.getPaths().getPathItems().forEach((path, item) -> {
            if (path.startsWith("/v1/")) {
                secure(item);
            }
        });
    }

    private static void secure(PathItem item) {
        item.getOperations().values().forEach(operation -> operation.setSecurity(
                java.util.List.of(OASFactory.createSecurityRequirement().addScheme(SCHEME))));
    }
}
