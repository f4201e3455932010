import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks an Eligo receipt (GET /v1/determinations/{id}/receipt) offline, with the JDK alone: no
 * service, no database. README, "The ledger", says what each step means.
 *
 * <pre>java scripts/CheckReceipt.java receipt.json public-key.pem</pre>
 *
 * Exits 0 and says what the receipt proves when every step holds; otherwise exits 1 naming the
 * first step that does not. The public key must come from somewhere you trust (the agency's
 * published key, GET /v1/integrity/public-key read earlier, the embedded quick start's
 * data/dev-ledger/public-key.pem), never from the receipt itself.
 */
public class CheckReceipt {

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java scripts/CheckReceipt.java receipt.json public-key.pem");
            System.exit(2);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> receipt = (Map<String, Object>) new Json(Files.readString(Path.of(args[0]))).value();
        Map<String, Object> leaf = map(receipt, "leaf");
        Map<String, Object> entry = map(receipt, "entry");
        Map<String, Object> block = map(receipt, "block");
        HexFormat hex = HexFormat.of();

        // 1. The leaf: SHA-256(0x00 || label || 0x00 || content).
        String label = (String) leaf.get("label");
        byte[] leafHash = sha256(new byte[] {0}, utf8(label), new byte[] {0}, utf8((String) leaf.get("content")));
        require(hex.formatHex(leafHash).equals(leaf.get("hash")), "the content does not hash to the leaf");
        // 2. The leaf's path to its transaction's entry root (RFC 6962 / RFC 9162 inclusion proof).
        byte[] entryRoot = fold(leafHash, number(entry, "leaf_index"), number(entry, "leaf_count"), strings(entry, "path"));
        require(entryRoot != null && hex.formatHex(entryRoot).equals(entry.get("root")), "the leaf's path does not lead to the entry's root");
        // 3. The entry's path to the block root, which the block's header names.
        byte[] blockRoot = fold(sha256(new byte[] {0}, entryRoot), number(block, "entry_index"), number(block, "entry_count"), strings(block, "path"));
        String header = (String) block.get("header");
        require(blockRoot != null && header.contains("\"root\":\"" + hex.formatHex(blockRoot) + "\""), "the entry's path does not lead to the root the block header names");
        // 4. The digest is over the header; 5. the signature is the key's, over the digest.
        byte[] digest = sha256(utf8(header));
        require(hex.formatHex(digest).equals(block.get("digest")), "the block's digest is not over its header");
        String pem = Files.readString(Path.of(args[1]));
        PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(
                Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", "").trim())));
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(key);
        verifier.update(digest);
        require(verifier.verify(Base64.getDecoder().decode((String) block.get("signature"))), "the signature is not this key's over the digest");

        System.out.println("receipt OK: " + label + " is in block " + number(block, "id") + " (digest " + block.get("digest")
                + "), signed by key " + block.get("key_id"));
    }

    /** RFC 9162, 2.1.3.2: the root an inclusion proof leads to, or null. */
    static byte[] fold(byte[] leafHash, long index, long size, List<String> path) throws Exception {
        long fn = index;
        long sn = size - 1;
        byte[] r = leafHash;
        for (String p : path) {
            byte[] sibling = HexFormat.of().parseHex(p);
            if (sn == 0) {
                return null;
            }
            if ((fn & 1) == 1 || fn == sn) {
                r = sha256(new byte[] {1}, sibling, r);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = sha256(new byte[] {1}, r, sibling);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 ? r : null;
    }

    static byte[] sha256(byte[]... parts) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (byte[] part : parts) {
            sha.update(part);
        }
        return sha.digest();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void require(boolean holds, String failure) {
        if (!holds) {
            System.out.println("receipt FAILED: " + failure);
            System.exit(1);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Map<String, Object> object, String name) {
        Object value = object.get(name);
        require(value instanceof Map, "the receipt has no " + name);
        return (Map<String, Object>) value;
    }

    static long number(Map<String, Object> object, String name) {
        Object value = object.get(name);
        require(value instanceof Long, "the receipt has no number " + name);
        return (Long) value;
    }

    @SuppressWarnings("unchecked")
    static List<String> strings(Map<String, Object> object, String name) {
        Object value = object.get(name);
        require(value instanceof List, "the receipt has no list " + name);
        return (List<String>) value;
    }

    /** Just enough JSON: objects, arrays, strings with escapes, integers, true, false, null. */
    static final class Json {
        private final String text;
        private int at;

        Json(String text) {
            this.text = text;
        }

        Object value() {
            skip();
            char c = text.charAt(at);
            if (c == '{') {
                Map<String, Object> object = new LinkedHashMap<>();
                at++;
                skip();
                if (text.charAt(at) == '}') {
                    at++;
                    return object;
                }
                while (true) {
                    skip();
                    String key = string();
                    skip();
                    expect(':');
                    object.put(key, value());
                    skip();
                    if (text.charAt(at++) == '}') {
                        return object;
                    }
                }
            }
            if (c == '[') {
                List<Object> array = new ArrayList<>();
                at++;
                skip();
                if (text.charAt(at) == ']') {
                    at++;
                    return array;
                }
                while (true) {
                    array.add(value());
                    skip();
                    if (text.charAt(at++) == ']') {
                        return array;
                    }
                }
            }
            if (c == '"') {
                return string();
            }
            for (String word : new String[] {"true", "false", "null"}) {
                if (text.startsWith(word, at)) {
                    at += word.length();
                    return word.equals("null") ? null : Boolean.valueOf(word);
                }
            }
            int start = at;
            while (at < text.length() && "-0123456789".indexOf(text.charAt(at)) >= 0) {
                at++;
            }
            return Long.parseLong(text.substring(start, at));
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (true) {
                char c = text.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char e = text.charAt(at++);
                switch (e) {
                    case 'b' -> out.append('\b');
                    case 't' -> out.append('\t');
                    case 'n' -> out.append('\n');
                    case 'f' -> out.append('\f');
                    case 'r' -> out.append('\r');
                    case 'u' -> {
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                    }
                    default -> out.append(e);
                }
            }
        }

        private void expect(char c) {
            if (text.charAt(at++) != c) {
                throw new IllegalArgumentException("not JSON at " + (at - 1) + ": expected " + c);
            }
        }

        private void skip() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }
    }
}
