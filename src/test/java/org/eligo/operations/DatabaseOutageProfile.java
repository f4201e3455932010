package org.eligo.operations;

import org.eligo.testing.UsesDatabaseProxy;

import io.quarkus.test.junit.QuarkusTestProfile;

/** The service reaches its database through a relay the test can cut. */
public class DatabaseOutageProfile implements QuarkusTestProfile, UsesDatabaseProxy {
}
