package milter.client.tool;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Reply;

/**
 * What a scripted milter does: replies per stage (optionally per recipient or header name), delays per stage,
 * negotiation wishes and the modifications it sends at end of message. Immutable once built by the tool.
 */
final class Script {
    /** The stages that can be scripted, by their option suffix. */
    enum Stage {
        NEGOTIATE("negotiate"),
        CONNECT("connect"),
        HELO("helo"),
        ENVELOPE_FROM("envelope-from"),
        ENVELOPE_RECIPIENT("envelope-recipient"),
        DATA("data"),
        UNKNOWN("unknown"),
        HEADER("header"),
        END_OF_HEADER("end-of-header"),
        BODY("body"),
        END_OF_MESSAGE("end-of-message");

        final String nick;

        Stage(String nick) {
            this.nick = nick;
        }
    }

    final EnumMap<Stage, Reply> replies = new EnumMap<>(Stage.class);
    final Map<String, Reply> recipientReplies = new LinkedHashMap<>();
    final Map<String, Reply> headerReplies = new LinkedHashMap<>();
    final EnumMap<Stage, Long> delaysMillis = new EnumMap<>(Stage.class);
    Integer actions;
    int protocolFlags;
    final Map<MacroStage, List<String>> macroRequests = new EnumMap<>(MacroStage.class);
    /** Factories, since a replace-body packet owns its buffer and is consumed when sent. */
    final List<java.util.function.Supplier<Reply>> modifications = new ArrayList<>();
    int progress;

    Reply replyFor(Stage stage) {
        return replies.get(stage);
    }

    long delayMillis(Stage stage) {
        return delaysMillis.getOrDefault(stage, 0L);
    }

    /**
     * Parses {@code continue}, {@code accept}, {@code reject}, {@code temporary-failure} (or {@code tempfail}),
     * {@code discard}, {@code skip}, or an SMTP reply such as {@code 554 5.7.1 Go away}.
     */
    static Reply parseStatus(String text) {
        String trimmed = text.trim();
        if (!trimmed.isEmpty() && Character.isDigit(trimmed.charAt(0))) {
            // Passed on unchecked: the client turns an invalid code into a plain reject or tempfail.
            return new Reply.ReplyCode(trimmed);
        }
        switch (trimmed.toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "continue":
                return Reply.Continue.INSTANCE;
            case "accept":
                return Reply.Accept.INSTANCE;
            case "reject":
                return Reply.Reject.INSTANCE;
            case "temporary-failure":
            case "tempfail":
                return Reply.TemporaryFailure.INSTANCE;
            case "discard":
                return Reply.Discard.INSTANCE;
            case "skip":
                return Reply.Skip.INSTANCE;
            default:
                throw new IllegalArgumentException("unknown status: <" + text + ">: should be one of continue,"
                        + " accept, reject, temporary-failure, discard, skip or an SMTP reply like '554 5.7.1 text'");
        }
    }

    /** {@code <ADDRESS>:STATUS} or {@code STATUS}; returns the address (null for all) and the reply. */
    static Map.Entry<String, Reply> parseRecipientReply(String text) {
        if (text.startsWith("<")) {
            int end = text.indexOf(">:");
            if (end < 0) {
                throw new IllegalArgumentException("expected <ADDRESS>:STATUS: <" + text + ">");
            }
            return Map.entry(text.substring(0, end + 1), parseStatus(text.substring(end + 2)));
        }
        return new java.util.AbstractMap.SimpleImmutableEntry<>(null, parseStatus(text));
    }

    /** {@code NAME:STATUS} or {@code STATUS}; the name is matched case-insensitively. */
    static Map.Entry<String, Reply> parseHeaderReply(String text) {
        int colon = text.indexOf(':');
        if (colon > 0 && !Character.isDigit(text.charAt(0))) {
            return Map.entry(text.substring(0, colon).toLowerCase(Locale.ROOT), parseStatus(text.substring(colon + 1)));
        }
        return new java.util.AbstractMap.SimpleImmutableEntry<>(null, parseStatus(text));
    }

    /** {@code STAGE:NAME NAME...}, stage by nick or number. */
    static Map.Entry<MacroStage, List<String>> parseMacroRequest(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected STAGE:NAMES: <" + text + ">");
        }
        String stageText = text.substring(0, colon).trim().toLowerCase(Locale.ROOT).replace('_', '-');
        MacroStage stage = null;
        for (MacroStage candidate : MacroStage.values()) {
            String nick = candidate.command().nick();
            if (nick.equals(stageText) || Integer.toString(candidate.value()).equals(stageText)) {
                stage = candidate;
            }
        }
        if (stage == null) {
            throw new IllegalArgumentException("unknown macro stage: <" + stageText + ">: should be one of connect,"
                    + " helo, envelope-from, envelope-recipient, data, end-of-message, end-of-header");
        }
        List<String> names = new ArrayList<>();
        for (String name : text.substring(colon + 1).split("[ ,]+")) {
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        return Map.entry(stage, Collections.unmodifiableList(names));
    }

    static String[] split(String text, int parts, String form) {
        String[] split = text.split(":", parts);
        if (split.length != parts) {
            throw new IllegalArgumentException("expected " + form + ": <" + text + ">");
        }
        return split;
    }

    static int index(String text, String form) {
        try {
            int index = Integer.parseInt(text.trim());
            if (index < 0) {
                throw new NumberFormatException("negative");
            }
            return index;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected " + form + " with a non-negative INDEX: <" + text + ">");
        }
    }

    /** {@code ADDRESS[ PARAMETERS]}: the address, and the rest (or null). */
    static String[] addressAndParameters(String text) {
        String trimmed = text.trim();
        int space = trimmed.indexOf(' ');
        if (space < 0) {
            return new String[] {trimmed, null};
        }
        return new String[] {trimmed.substring(0, space), trimmed.substring(space + 1).trim()};
    }

    static Reply replaceBody(String text) {
        return new Reply.ReplaceBody(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }
}
