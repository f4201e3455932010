package org.eligo.testing;

/** Marks a test profile whose service reaches the database through the cuttable {@link DatabaseProxy}. */
public interface UsesDatabaseProxy {
}
