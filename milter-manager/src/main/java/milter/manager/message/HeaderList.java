package milter.manager.message;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The headers of the message being processed, edited by the children's modification requests with upstream's
 * rules. Name lookups for change and delete are exact (case-sensitive); placement of an added header is
 * case-insensitive. Not thread-safe (one session, one event loop).
 */
public final class HeaderList {
    private final List<Header> headers;

    public HeaderList() {
        this.headers = new ArrayList<>();
    }

    private HeaderList(List<Header> headers) {
        this.headers = new ArrayList<>(headers);
    }

    public HeaderList copy() {
        return new HeaderList(headers);
    }

    public List<Header> list() {
        return Collections.unmodifiableList(headers);
    }

    public int size() {
        return headers.size();
    }

    public Header get(int index) {
        return headers.get(index);
    }

    /** Appends a header received from the MTA. */
    public void append(String name, String value) {
        headers.add(new Header(name, value));
    }

    /** A child's add-header: before the first header of the same name (ignoring case), else at the end. */
    public void add(String name, String value) {
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i).name().equalsIgnoreCase(name)) {
                headers.add(i, new Header(name, value));
                return;
            }
        }
        headers.add(new Header(name, value));
    }

    /** A child's insert-header at a 0-based position; beyond the end appends. */
    public void insert(int position, String name, String value) {
        int at = position < 0 ? 0 : Math.min(position, headers.size());
        headers.add(at, new Header(name, value));
    }

    /**
     * A child's change-header: the {@code index}-th (1-based) header named exactly {@code name} gets the new
     * value; an empty value deletes it; a missing header is added as by {@link #add}.
     */
    public void change(String name, int index, String value) {
        if (value.isEmpty()) {
            delete(name, index);
            return;
        }
        int position = positionOf(name, index);
        if (position >= 0) {
            headers.set(position, new Header(name, value));
        } else {
            add(name, value);
        }
    }

    /** Removes the {@code index}-th (1-based) header named exactly {@code name}; false when there is none. */
    public boolean delete(String name, int index) {
        int position = positionOf(name, index);
        if (position < 0) {
            return false;
        }
        headers.remove(position);
        return true;
    }

    /** Removes the first header equal in name and value; false when there is none. */
    boolean remove(Header header) {
        return headers.remove(header);
    }

    /** The first header named exactly {@code name}, or null. */
    Header firstNamed(String name) {
        for (Header header : headers) {
            if (header.name().equals(name)) {
                return header;
            }
        }
        return null;
    }

    /** The 1-based rank of the first header equal to {@code target} among headers of its name, or -1. */
    int rankOf(Header target) {
        int rank = 0;
        for (Header header : headers) {
            if (header.name().equals(target.name())) {
                rank++;
                if (header.value().equals(target.value())) {
                    return rank;
                }
            }
        }
        return -1;
    }

    private int positionOf(String name, int index) {
        int wanted = Math.max(index, 1);
        int found = 0;
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i).name().equals(name)) {
                found++;
                if (found == wanted) {
                    return i;
                }
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return headers.toString();
    }
}
