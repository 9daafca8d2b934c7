namespace FastSpool.Cli.Sendmail;

/// <summary>An SMTP reply: the code and the text (enhanced status code included).</summary>
internal readonly record struct SmtpReply(int Code, string Text)
{
    public bool Positive => Code is >= 200 and < 400;

    public bool Transient => Code is >= 400 and < 500;

    public override string ToString() => $"{Code} {Text}";
}
