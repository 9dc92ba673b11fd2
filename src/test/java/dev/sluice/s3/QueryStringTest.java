package dev.sluice.s3;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The one query parser: every reader of a query string (S3 operations, SigV4 and SigV2
 * verification, the STS endpoint) splits it here, and takes the raw or a decoded form.
 */
class QueryStringTest {

    @Test
    void splitsIntoSegmentsInWireOrderDroppingEmptyOnes() {
        List<QueryString.Parameter> parameters = QueryString.split("b=2&&a=1&b=0&");

        assertThat(parameters).extracting(QueryString.Parameter::segment).containsExactly("b=2", "a=1", "b=0");
    }

    @Test
    void aBareFlagIsToldApartFromAnEmptyValue() {
        List<QueryString.Parameter> parameters = QueryString.split("location&prefix=");

        assertThat(parameters.get(0)).isEqualTo(new QueryString.Parameter("location", "", false));
        assertThat(parameters.get(0).segment()).isEqualTo("location");
        assertThat(parameters.get(1)).isEqualTo(new QueryString.Parameter("prefix", "", true));
        assertThat(parameters.get(1).segment()).isEqualTo("prefix=");
    }

    @Test
    void splitsOnTheFirstEqualsSignOnly() {
        QueryString.Parameter p = QueryString.split("X-Amz-Credential=a=b").getFirst();

        assertThat(p.rawName()).isEqualTo("X-Amz-Credential");
        assertThat(p.rawValue()).isEqualTo("a=b");
    }

    @Test
    void keepsTheRawFormAndDecodesByTheRuleAsked() {
        QueryString.Parameter p = QueryString.split("pre%66ix=dir/a+b%2Bc%20d").getFirst();

        assertThat(p.rawName()).isEqualTo("pre%66ix");
        assertThat(p.rawValue()).isEqualTo("dir/a+b%2Bc%20d");
        // Signatures: percent-decoding only, + is a plus.
        assertThat(p.name()).contains("prefix");
        assertThat(p.value()).contains("dir/a+b+c d");
        // S3 operation parameters: + is a space, %2B a plus.
        assertThat(p.formName()).isEqualTo("prefix");
        assertThat(p.formValue()).isEqualTo("dir/a b+c d");
    }

    @Test
    void aMalformedEscapeDecodesToNothingForSignaturesAndFailsForOperations() {
        QueryString.Parameter p = QueryString.split("%zz=%4").getFirst();

        assertThat(p.name()).isEmpty();
        assertThat(p.nameOrRaw()).isEqualTo("%zz");
        assertThat(p.value()).isEmpty();
        assertThatIllegalArgumentException().isThrownBy(p::formValue);
        assertThatIllegalArgumentException().isThrownBy(p::formName);
    }

    @Test
    void invalidUtf8DoesNotDecode() {
        QueryString.Parameter p = QueryString.split("prefix=%E9").getFirst();

        assertThat(p.value()).isEmpty();
        assertThatIllegalArgumentException().isThrownBy(p::formValue);
    }

    @Test
    void anOperationQueryWithABadEscapeIsInvalidArgument() {
        assertThatThrownBy(() -> QueryString.parse("list-type=2&prefix=%zz"))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error()).isEqualTo(S3Error.INVALID_ARGUMENT);
                    assertThat(e.error().status()).isEqualTo(400);
                    assertThat(e.error().code()).isEqualTo("InvalidArgument");
                });
    }

    @Test
    void anOperationQueryAnswersTheFirstFormDecodedValue() {
        QueryString query = QueryString.parse("prefix=a+b&prefix=second&loc%61tion");

        assertThat(query.first("prefix")).isEqualTo(Optional.of("a b"));
        assertThat(query.has("location")).isTrue();
        assertThat(query.first("location")).contains("");
        assertThat(query.has("delimiter")).isFalse();
        assertThat(QueryString.parse(null).parameters()).isEmpty();
        assertThat(QueryString.parse("").parameters()).isEmpty();
    }
}
