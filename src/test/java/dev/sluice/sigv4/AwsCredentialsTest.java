package dev.sluice.sigv4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class AwsCredentialsTest {

    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private static final String TOKEN = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQ";

    @Test
    void toStringRedactsSecretAndToken() {
        AwsCredentials credentials = AwsCredentials.of("AKIDEXAMPLE", SECRET, TOKEN);

        assertThat(credentials.toString())
                .contains("AKIDEXAMPLE")
                .doesNotContain(SECRET)
                .doesNotContain(TOKEN)
                // Not even a recognisable piece of either.
                .doesNotContain("EXAMPLEKEY")
                .doesNotContain("AQoDYXdz");
    }

    @Test
    void toStringWithoutTokenSaysSo() {
        AwsCredentials credentials = AwsCredentials.of("AKIDEXAMPLE", SECRET);

        assertThat(credentials.sessionToken()).isEmpty();
        assertThat(credentials.toString()).doesNotContain(SECRET).contains("<none>");
    }

    @Test
    void rejectsBlankOrMalformedParts() {
        assertThatIllegalArgumentException().isThrownBy(() -> AwsCredentials.of(" ", SECRET));
        assertThatIllegalArgumentException().isThrownBy(() -> AwsCredentials.of("AKID/X", SECRET));
        assertThatIllegalArgumentException().isThrownBy(() -> AwsCredentials.of("AKID", ""));
        assertThatIllegalArgumentException().isThrownBy(() -> new AwsCredentials("AKID", SECRET, Optional.of(" ")));
    }
}
