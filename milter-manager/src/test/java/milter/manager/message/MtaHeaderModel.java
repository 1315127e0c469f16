package milter.manager.message;

import java.util.ArrayList;
import java.util.List;
import milter.core.protocol.Reply;

/**
 * The header list of an MTA that applies header modification packets the way upstream's test MTA does
 * (milter-test-server on top of upstream's header list): insert at a 0-based position (past the end appends);
 * add before the first header of the same name ignoring case, else at the end; change the k-th header (1-based)
 * of exactly that name, adding the header when there is no k-th; an empty value deletes the k-th header, and
 * nothing happens when there is none. Written apart from {@link HeaderList} so that one can check the other.
 */
final class MtaHeaderModel {
    private final List<Header> headers = new ArrayList<>();

    MtaHeaderModel(List<Header> original) {
        headers.addAll(original);
    }

    List<Header> headers() {
        return headers;
    }

    void apply(Reply packet) {
        if (packet instanceof Reply.InsertHeader insert) {
            headers.add(Math.min(insert.index(), headers.size()), new Header(insert.name(), insert.value()));
        } else if (packet instanceof Reply.AddHeader add) {
            add(add.name(), add.value());
        } else if (packet instanceof Reply.ChangeHeader change) {
            int at = nth(change.name(), change.index());
            if (change.value().isEmpty()) {
                if (at >= 0) {
                    headers.remove(at);
                }
            } else if (at >= 0) {
                headers.set(at, new Header(change.name(), change.value()));
            } else {
                add(change.name(), change.value());
            }
        } else {
            throw new AssertionError("not a header packet: " + packet);
        }
    }

    private void add(String name, String value) {
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i).name().equalsIgnoreCase(name)) {
                headers.add(i, new Header(name, value));
                return;
            }
        }
        headers.add(new Header(name, value));
    }

    private int nth(String name, int index) {
        int seen = 0;
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i).name().equals(name) && ++seen == index) {
                return i;
            }
        }
        return -1;
    }
}
