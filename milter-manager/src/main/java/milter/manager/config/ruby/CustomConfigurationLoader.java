package milter.manager.config.ruby;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import milter.core.log.TaggedLogger;
import milter.manager.config.RubyInspect;
import org.xml.sax.Attributes;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * {@code milter-manager.custom.conf}, which the controller writes: only the XML form is understood (first line
 * starting with {@code <}), as upstream. {@code <security>}, {@code <manager>} and {@code <controller>} children
 * set those keys; each {@code <milters><milter>} is applied as a {@code define_milter} of that name.
 */
final class CustomConfigurationLoader {
    private CustomConfigurationLoader() {
    }

    static void load(LoadSession session, Path file) {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String first = reader.readLine();
            if (first == null || !first.stripLeading().startsWith("<")) {
                return;
            }
        } catch (IOException e) {
            session.custom(file.toString(), 0, "can't read: " + e.getMessage());
            return;
        }
        TaggedLogger.debug(TaggedLogger.NO_SESSION, "[configuration][xml][load][start]", "<" + file + ">");
        Handler handler = new Handler(session, file.toString());
        try (InputStream input = Files.newInputStream(file)) {
            parser().parse(input, handler);
        } catch (StopLoading e) {
            session.custom(file.toString(), e.line, e.getMessage());
        } catch (SAXException | IOException | ParserConfigurationException e) {
            session.custom(file.toString(), handler.line(), e.getMessage());
        } finally {
            TaggedLogger.debug(TaggedLogger.NO_SESSION, "[configuration][xml][load][end]", "<" + file + ">");
        }
    }

    private static SAXParser parser() throws ParserConfigurationException, SAXException {
        SAXParserFactory factory = SAXParserFactory.newInstance();
        factory.setNamespaceAware(false);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        return factory.newSAXParser();
    }

    /** An error that ends the XML load, with the position in the message. */
    private static final class StopLoading extends SAXException {
        final int line;

        StopLoading(int line, String message) {
            super(message);
            this.line = line;
        }
    }

    private static final class Handler extends DefaultHandler {
        private final LoadSession session;
        private final String file;
        private final Deque<String> path = new ArrayDeque<>();
        private final StringBuilder text = new StringBuilder();
        private Locator locator;
        private MilterEntry milter;

        Handler(LoadSession session, String file) {
            this.session = session;
            this.file = file;
        }

        @Override
        public void setDocumentLocator(Locator locator) {
            this.locator = locator;
        }

        @Override
        public void startElement(String uri, String localName, String qName, Attributes attributes)
                throws SAXException {
            String name = qName.replace('-', '_');
            String parent = path.peek();
            if (parent == null && !name.equals("configuration")) {
                throw stop("root element must be <configuration>");
            }
            if ("milters".equals(parent) && name.equals("milter")) {
                milter = new MilterEntry(line());
            }
            path.push(name);
            text.setLength(0);
        }

        @Override
        public void characters(char[] ch, int start, int length) {
            text.append(ch, start, length);
        }

        @Override
        public void endElement(String uri, String localName, String qName) throws SAXException {
            String name = path.pop();
            String parent = path.peek();
            String value = text.toString().trim();
            text.setLength(0);
            if (parent == null) {
                return;
            }
            switch (parent) {
                case "security":
                case "manager":
                case "controller": {
                    String problem = session.set(parent + "." + name, value, RubyInspect.inspect(value), file, line());
                    if (problem != null) {
                        throw stop(problem);
                    }
                    break;
                }
                case "milters":
                    if (name.equals("milter")) {
                        applyMilter();
                    }
                    break;
                case "milter":
                    if (milter != null && !name.equals("applicable_conditions")) {
                        milter.values.add(new String[] {name, value});
                    }
                    break;
                case "applicable_conditions":
                    if (milter != null && name.equals("applicable_condition")) {
                        milter.conditions.add(value);
                    }
                    break;
                default:
                    break;
            }
        }

        private void applyMilter() throws SAXException {
            MilterEntry entry = milter;
            milter = null;
            String name = null;
            for (String[] pair : entry.values) {
                if (pair[0].equals("name")) {
                    name = pair[1];
                }
            }
            if (name == null || name.isEmpty()) {
                throw stop("<milter> without <name>");
            }
            session.setLocation("milter[" + name + "]", file, entry.line);
            EggDraft draft = session.eggDraft(name);
            for (String[] pair : entry.values) {
                String key = pair[0];
                if (key.equals("name") || (key.equals("connection_spec") && pair[1].isEmpty())) {
                    continue;
                }
                if (!EggDraft.KEYS.contains(key)) {
                    throw stop("unexpected element: <" + key + "> in <milter>");
                }
                String problem = draft.set(key, pair[1], RubyInspect.inspect(pair[1]));
                if (problem != null) {
                    throw stop(problem);
                }
            }
            String problem = session.setEggConditions(draft, entry.conditions,
                    entry.conditions.stream().map(RubyInspect::inspect).toList().toString());
            if (problem != null) {
                throw stop(problem);
            }
            session.commitEgg(draft);
        }

        int line() {
            return locator == null ? 0 : locator.getLineNumber();
        }

        private StopLoading stop(String message) {
            return new StopLoading(line(), message);
        }
    }

    private static final class MilterEntry {
        final int line;
        final List<String[]> values = new ArrayList<>();
        final List<String> conditions = new ArrayList<>();

        MilterEntry(int line) {
            this.line = line;
        }
    }
}
