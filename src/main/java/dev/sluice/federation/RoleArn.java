package dev.sluice.federation;

import java.util.regex.Pattern;

/**
 * The shape of an IAM role ARN that sluice will assume ({@code arn:PARTITION:iam::ACCOUNT:role/PATH/NAME}),
 * checked once for both places a role can come from: the static registry's configuration and
 * a control-plane data connection.
 */
public final class RoleArn {
    private static final Pattern VALID = Pattern.compile("arn:[a-z-]+:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}");

    private RoleArn() {
    }

    public static boolean isValid(String arn) {
        return VALID.matcher(arn).matches();
    }
}
