package org.eligo.ledger;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;

/**
 * The public key of an Ed25519 private key (RFC 8032, 5.1.5), which the JDK signs with but does not
 * derive: so that a Secret need hold the private key only (as {@code openssl genpkey -algorithm
 * ed25519} writes it). Plain affine arithmetic on the curve; it runs once at start, and
 * {@link LedgerKeys#publicKeyOf} proves the result with a signature made by the JDK.
 */
final class Ed25519 {

    private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
    private static final BigInteger D = BigInteger.valueOf(-121665).multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);
    private static final BigInteger BX = new BigInteger("15112221349535400772501151409588531511454012693041857206046113283949847762202");
    private static final BigInteger BY = new BigInteger("46316835694926478169428394003475163141307993866256225615783033603165251855960");

    private Ed25519() {
    }

    static PublicKey publicKey(byte[] seed) throws GeneralSecurityException {
        byte[] h = MessageDigest.getInstance("SHA-512").digest(seed);
        byte[] scalar = new byte[32];
        System.arraycopy(h, 0, scalar, 0, 32);
        scalar[0] &= (byte) 248;
        scalar[31] &= 127;
        scalar[31] |= 64;
        BigInteger a = littleEndian(scalar);
        BigInteger[] point = multiply(a, new BigInteger[] {BX, BY});
        EdECPoint encoded = new EdECPoint(point[0].testBit(0), point[1]);
        return KeyFactory.getInstance(LedgerKeys.ALGORITHM).generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, encoded));
    }

    private static BigInteger[] multiply(BigInteger k, BigInteger[] point) {
        BigInteger[] result = {BigInteger.ZERO, BigInteger.ONE};
        BigInteger[] addend = point;
        for (int i = 0; i < k.bitLength(); i++) {
            if (k.testBit(i)) {
                result = add(result, addend);
            }
            addend = add(addend, addend);
        }
        return result;
    }

    /** Twisted Edwards addition, a = -1: x3 = (x1y2 + y1x2) / (1 + d x1x2y1y2), y3 = (y1y2 + x1x2) / (1 - d x1x2y1y2). */
    private static BigInteger[] add(BigInteger[] p1, BigInteger[] p2) {
        BigInteger x1 = p1[0];
        BigInteger y1 = p1[1];
        BigInteger x2 = p2[0];
        BigInteger y2 = p2[1];
        BigInteger t = D.multiply(x1).multiply(x2).multiply(y1).multiply(y2).mod(P);
        BigInteger x3 = x1.multiply(y2).add(y1.multiply(x2)).multiply(BigInteger.ONE.add(t).modInverse(P)).mod(P);
        BigInteger y3 = y1.multiply(y2).add(x1.multiply(x2)).multiply(BigInteger.ONE.subtract(t).mod(P).modInverse(P)).mod(P);
        return new BigInteger[] {x3, y3};
    }

    private static BigInteger littleEndian(byte[] bytes) {
        byte[] big = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            big[i] = bytes[bytes.length - 1 - i];
        }
        return new BigInteger(1, big);
    }
}
