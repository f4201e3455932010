package org.eligo.ledger;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * Merkle trees as RFC 6962 (Certificate Transparency) defines them, section 2.1: a leaf's hash is
 * SHA-256(0x00 || leaf data), an interior node's SHA-256(0x01 || left || right), and a tree of n > 1
 * leaves splits at the largest power of two below n. Its audit paths are the standard ones, so any
 * RFC 6962 implementation can check a receipt.
 */
public final class Merkle {

    private Merkle() {
    }

    public static byte[] leafHash(byte[] data) {
        MessageDigest sha = sha256();
        sha.update((byte) 0x00);
        sha.update(data);
        return sha.digest();
    }

    public static byte[] nodeHash(byte[] left, byte[] right) {
        MessageDigest sha = sha256();
        sha.update((byte) 0x01);
        sha.update(left);
        sha.update(right);
        return sha.digest();
    }

    /** The root over leaf hashes (not leaf data); at least one. */
    public static byte[] root(List<byte[]> leafHashes) {
        if (leafHashes.isEmpty()) {
            throw new IllegalArgumentException("a Merkle tree has at least one leaf");
        }
        return root(leafHashes, 0, leafHashes.size());
    }

    private static byte[] root(List<byte[]> leaves, int from, int to) {
        int n = to - from;
        if (n == 1) {
            return leaves.get(from);
        }
        int k = split(n);
        return nodeHash(root(leaves, from, from + k), root(leaves, from + k, to));
    }

    /**
     * The audit path of leaf {@code index}: the sibling hashes from the leaf up to the root (RFC 6962,
     * 2.1.1, PATH(m, D[n])). Checking one (RFC 9162, 2.1.3.2) is the receipt holder's:
     * scripts/CheckReceipt.java.
     */
    public static List<byte[]> path(List<byte[]> leafHashes, int index) {
        List<byte[]> path = new ArrayList<>();
        path(leafHashes, 0, leafHashes.size(), index, path);
        return path;
    }

    private static void path(List<byte[]> leaves, int from, int to, int index, List<byte[]> out) {
        int n = to - from;
        if (n == 1) {
            return;
        }
        int k = split(n);
        if (index < k) {
            path(leaves, from, from + k, index, out);
            out.add(root(leaves, from + k, to));
        } else {
            path(leaves, from + k, to, index - k, out);
            out.add(root(leaves, from, from + k));
        }
    }

    /** The largest power of two smaller than n (n > 1). */
    private static int split(int n) {
        return Integer.highestOneBit(n - 1);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
