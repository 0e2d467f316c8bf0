const app = document.querySelector<HTMLElement>('#app');
if (app) app.textContent = 'Call Santa';
