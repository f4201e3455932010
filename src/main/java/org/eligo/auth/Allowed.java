package org.eligo.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The roles that may call an endpoint. Every {@code /v1} resource method carries one (on the method
 * or its class): {@link Gate} (before the body is read) and {@link AccessFilters} (against the
 * method dispatched to) refuse a method without it, so a new endpoint is closed until someone
 * decides who may use it.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface Allowed {
    Role[] value();
}
