namespace VaeLab.Cli;

/// <summary>Which exceptions are the user's input being wrong (reported in one line) rather than a bug (stack trace).</summary>
internal static class UserErrors
{
    public static bool IsUserError(Exception error) => error is ArgumentException or FormatException or IOException or UnauthorizedAccessException;
}
