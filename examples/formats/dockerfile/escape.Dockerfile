# escape=`
# comment after the escape directive
FROM mcr.microsoft.com/windows/servercore:ltsc2022

# comments before an instruction
#no space
RUN powershell -Command `
  # comment inside a continued instruction is dropped
  Write-Host hello

COPY C:\src\app C:\app
ENV A=1 `
    B="two words"
ARG VERSION
ARG X=1 Y=2
ONBUILD RUN ["cmd", "/c", "echo"]
CMD []
