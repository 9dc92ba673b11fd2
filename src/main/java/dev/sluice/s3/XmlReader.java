package dev.sluice.s3;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXParseException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.util.Optional;

/**
 * Reads XML from dependencies (S3 backends, STS) safely: namespace-aware, no DOCTYPE, no
 * entity expansion, and parse errors thrown rather than printed — the JDK's default error
 * handler writes {@code [Fatal Error]} lines straight to stderr, outside the log.
 */
public final class XmlReader {
    private static final ErrorHandler THROWING = new ErrorHandler() {
        @Override
        public void warning(SAXParseException e) {
        }

        @Override
        public void error(SAXParseException e) throws SAXParseException {
            throw e;
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXParseException {
            throw e;
        }
    };

    private XmlReader() {
    }

    /** The document, or empty when the bytes are not well-formed XML (or try to use a DOCTYPE). */
    public static Optional<Document> parse(byte[] body) {
        try {
            // The JDK's parser, whose secure-processing features below are known, whatever else is on the classpath.
            DocumentBuilderFactory f = DocumentBuilderFactory.newDefaultInstance();
            f.setNamespaceAware(true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            DocumentBuilder builder = f.newDocumentBuilder();
            builder.setErrorHandler(THROWING);
            return Optional.of(builder.parse(new ByteArrayInputStream(body)));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /** The text of the element reached from {@code root} through child elements named {@code path} (local names). */
    public static Optional<String> text(Element root, String... path) {
        Element e = root;
        for (String name : path) {
            Element next = null;
            for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element c && name.equals(c.getLocalName())) {
                    next = c;
                    break;
                }
            }
            if (next == null) {
                return Optional.empty();
            }
            e = next;
        }
        return Optional.of(e.getTextContent());
    }
}
