package org.eligo.ingest;

import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.determinations.DeterminationService;
import org.eligo.support.Ids;
import org.eligo.support.Requests;
import org.eligo.support.problem.ProblemException;

/** Reads stored messages. */
@ApplicationScoped
public class MessageQueries {

    private final Messages messages;
    private final org.eligo.facts.Facts facts;

    public MessageQueries(Messages messages, org.eligo.facts.Facts facts) {
        this.messages = messages;
        this.facts = facts;
    }

    /**
     * The message, then its facts' ids. Two statements, each its own snapshot, yet they agree: a
     * message has facts exactly when it is PROCESSED (its facts commit with that status, and are
     * never deleted while it is kept), so the facts are read only for a message already seen
     * PROCESSED, and are all there by then.
     */
    /** The messages these ids name, without their fact ids (what a page of facts shows of where each came from). */
    public java.util.Map<String, MessageView> sources(java.util.Collection<String> ids) {
        return messages.views(ids);
    }

    public MessageView get(String id) {
        if (!Ids.isWellFormed(id, Ids.MESSAGE)) {
            throw ProblemException.notFound("No message with id " + id);
        }
        MessageView message = messages.view(id).orElseThrow(() -> ProblemException.notFound("No message with id " + id));
        return message.status() == MessageStatus.PROCESSED ? message.withFactIds(facts.idsOfMessage(id)) : message;
    }

    /** A page of messages and the cursor of the next one (null: this is the last). */
    @org.eclipse.microprofile.openapi.annotations.media.Schema(name = "MessagePage")
    public record Page(List<MessageView> items, String nextCursor) {
    }

    /**
     * A page of a beneficiary's messages, newest first, each with its facts' ids (read for the page's
     * PROCESSED messages in one more statement; they agree for the reason {@link #get} gives).
     */
    public Page ofBeneficiary(String beneficiaryId, String limitText, String cursor) {
        Requests.requireBeneficiaryId(beneficiaryId);
        int limit = DeterminationService.limit(limitText);
        Page page = page(messages.ofBeneficiary(beneficiaryId, before(cursor), limit + 1), limit);
        Map<String, List<String>> factIds = facts.idsOfMessages(
                page.items().stream().filter(m -> m.status() == MessageStatus.PROCESSED).map(MessageView::id).toList());
        return new Page(page.items().stream().map(m -> factIds.containsKey(m.id()) ? m.withFactIds(factIds.get(m.id())) : m).toList(),
                page.nextCursor());
    }

    /**
     * A page of the messages with a status, newest first: {@code FAILED} (what the service gave up
     * on, each with its error) or {@code RECEIVED} (the backlog); of {@code sources} only unless null
     * (an agency's token). PROCESSED is every other message: a 400 (a beneficiary's are listed by
     * {@link #ofBeneficiary}).
     */
    public Page withStatus(String statusText, List<String> sources, String limitText, String cursor) {
        MessageStatus status = statusText == null ? null : switch (statusText) {
            case "FAILED" -> MessageStatus.FAILED;
            case "RECEIVED" -> MessageStatus.RECEIVED;
            default -> null;
        };
        if (status == null) {
            throw ProblemException.badParameter("status", "must be FAILED or RECEIVED (a beneficiary's messages: GET /v1/beneficiaries/{id}/messages)");
        }
        int limit = DeterminationService.limit(limitText);
        return page(messages.withStatus(status, sources, before(cursor), limit + 1), limit);
    }

    private static String before(String cursor) {
        return cursor == null || cursor.isEmpty() ? null : Requests.decodeIdCursor(cursor, Ids.MESSAGE);
    }

    /** {@code rows}, read one past {@code limit}: the first {@code limit}, and the cursor after them when there were more. */
    private static Page page(List<MessageView> rows, int limit) {
        List<MessageView> items = rows.size() > limit ? rows.subList(0, limit) : rows;
        return new Page(List.copyOf(items), rows.size() > limit ? Requests.encodeCursor(items.get(items.size() - 1).id()) : null);
    }
}
