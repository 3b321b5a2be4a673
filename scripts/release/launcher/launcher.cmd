@echo off
rem pulumi-resource-sendgrid-segment.cmd: the sendgrid-segment Pulumi plugin on the Node.js found on
rem PATH (@NODE_MAJOR@ or newer). The Pulumi engine runs this file on Windows with its address as the
rem last argument; it runs pulumi-resource-sendgrid-segment.cjs from the folder this file is in.
setlocal
set "NODE_EXE="
for %%N in (node.exe) do set "NODE_EXE=%%~$PATH:N"
if not defined NODE_EXE (
  >&2 echo pulumi-resource-sendgrid-segment: needs Node.js @NODE_MAJOR@ or newer on PATH, and finds no node.exe
  exit /b 1
)
"%NODE_EXE%" "%~dp0pulumi-resource-sendgrid-segment.cjs" %*
exit /b %ERRORLEVEL%
