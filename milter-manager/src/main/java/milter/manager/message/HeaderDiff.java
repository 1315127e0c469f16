package milter.manager.message;

import java.util.ArrayList;
import java.util.List;
import milter.core.protocol.Reply;

/**
 * Turns "headers as the MTA sent them" and "headers after every child's edits" into the modification packets for
 * the MTA, in upstream's order: walking the final list, an unchanged header is matched off, a header whose name
 * still has an unmatched original becomes a change of that original, anything else an insert at its position;
 * then the originals left over are deleted, last first, so that indexes stay valid on every MTA.
 */
public final class HeaderDiff {
    private HeaderDiff() {
    }

    public static List<Reply> diff(HeaderList original, HeaderList modified) {
        List<Reply> replies = new ArrayList<>();
        if (original.list().equals(modified.list())) {
            // Nobody edited the headers (most messages): nothing to send, no matching walk needed.
            return replies;
        }
        HeaderList rest = original.copy();
        List<Header> target = modified.list();
        for (int i = 0; i < target.size(); i++) {
            Header header = target.get(i);
            if (rest.remove(header)) {
                continue;
            }
            Header sameName = rest.firstNamed(header.name());
            if (sameName == null) {
                replies.add(new Reply.InsertHeader(i, header.name(), header.value()));
                continue;
            }
            int rank = original.rankOf(sameName);
            if (rank < 0) {
                replies.add(new Reply.AddHeader(header.name(), header.value()));
            } else {
                replies.add(new Reply.ChangeHeader(rank, header.name(), header.value()));
                rest.remove(sameName);
            }
        }
        List<Header> leftOver = rest.list();
        for (int i = leftOver.size() - 1; i >= 0; i--) {
            Header header = leftOver.get(i);
            replies.add(new Reply.ChangeHeader(original.rankOf(header), header.name(), ""));
        }
        return replies;
    }
}
