package milter.core.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;

/** Encodes events with a {@link TaggedLayout} into {@link LogBytes} (wire bytes kept as they came). */
public class TaggedEncoder extends EncoderBase<ILoggingEvent> {
    private static final byte[] NOTHING = new byte[0];

    private TaggedLayout layout = new TaggedLayout();

    public void setLayout(TaggedLayout layout) {
        this.layout = layout;
    }

    public TaggedLayout getLayout() {
        return layout;
    }

    /** Shortcut for the layout's {@link TaggedLayout#setTimestamp(boolean)}, usable from logback XML. */
    public void setTimestamp(boolean timestamp) {
        layout.setTimestamp(timestamp);
    }

    @Override
    public void start() {
        if (layout.getContext() == null) {
            layout.setContext(getContext());
        }
        layout.start();
        super.start();
    }

    @Override
    public void stop() {
        layout.stop();
        super.stop();
    }

    @Override
    public byte[] headerBytes() {
        return NOTHING;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        return LogBytes.encode(layout.doLayout(event));
    }

    @Override
    public byte[] footerBytes() {
        return NOTHING;
    }
}
